"""Webhook routes: subscribe a URL to events, list and delete your webhooks, read and redeliver their deliveries."""

from flask.views import MethodView

from coop.accounts.permissions import authenticated_user, require
from coop.pagination import PageArgs, page_body, page_schema
from coop.parsing import Blueprint
from coop.webhooks import services
from coop.webhooks.models import Webhook
from coop.webhooks.schemas import (
    DeliverySchema,
    NewWebhookSchema,
    WebhookCreateSchema,
    WebhookSchema,
    WebhookUpdateSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1", description="Webhooks: events sent to your own systems")


def _own(webhook_id: int) -> Webhook:
    # Another person's webhook answers exactly like one that does not exist.
    return services.own_webhook(authenticated_user(), webhook_id)


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, NewWebhookSchema)
    @require()
    def post(self, data):
        """Subscribe a URL to events; the answer holds the signing secret, shown this once."""
        webhook, secret = services.create_webhook(authenticated_user(), data)
        return {**{k: getattr(webhook, k) for k in NewWebhookSchema().fields if k != "secret"}, "secret": secret}

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(WebhookSchema, "WebhookPage"))
    @require()
    def get(self, args):
        """Your webhooks (never their secrets)."""
        return page_body(*services.list_webhooks(authenticated_user(), args))


@blp.route("/webhooks/<int:webhook_id>")
class WebhookById(MethodView):
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @require()
    def patch(self, data, webhook_id):
        """Enable one of your webhooks again (e.g. after it was disabled for failing), or turn it off."""
        return services.set_enabled(authenticated_user(), _own(webhook_id), data["enabled"])

    @blp.response(204)
    @require()
    def delete(self, webhook_id):
        """Delete one of your webhooks and its delivery log."""
        services.delete_webhook(authenticated_user(), _own(webhook_id))


@blp.route("/webhooks/<int:webhook_id>/deliveries", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(DeliverySchema, "WebhookDeliveryPage"))
@require()
def deliveries(args, webhook_id):
    """The deliveries of one of your webhooks, newest first: what was sent, how many tries, what the receiver said."""
    return page_body(*services.list_deliveries(authenticated_user(), _own(webhook_id), args))


@blp.route("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@blp.response(202, DeliverySchema)
@require()
def redeliver(webhook_id, delivery_id):
    """Send a delivery again, with the same webhook-id and body; retried for another day if it fails."""
    return services.redeliver(authenticated_user(), _own(webhook_id), delivery_id)
