"""Coordinators' payment pages: money announced and not yet confirmed (deposits, membership shares, payouts)."""

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coop.accounts.models import User
from coop.accounts.permissions import authenticated_user, has_role, require
from coop.errors import Invalid
from coop.governance import services as governance
from coop.governance.schemas import AdmissionSchema, RefusalSchema
from coop.i18n import format_money
from coop.loading import get_or_404
from coop.marketplace import services
from coop.marketplace.models import Deposit, Withdrawal
from coop.marketplace.requesting.forms import RefusalForm, ShareConfirmForm
from coop.marketplace.services import desk
from coop.pages import done, pages_blueprint, render, signed_in, validated

bp = pages_blueprint("payments", __name__)

# Rows of each kind on the page; the oldest first, so none waits behind newer ones.
PAGE_ROWS = 100


def nav(user) -> list[tuple[str, str]]:
    if user.is_authenticated and has_role(user, "coordinator"):
        return [("payments_pages.payments", _l("Payments"))]
    return []


def coordinator_page(view):
    """Signed in (or sent to sign in) and a coordinator, as the API's confirm routes ask."""
    return signed_in(require("coordinator")(view))


@bp.route("/coordination/payments")
@coordinator_page
def payments():
    """Deposits, membership shares and payouts waiting for a coordinator to confirm the money moved."""
    found = desk.payments_to_confirm(authenticated_user(), PAGE_ROWS)
    return render("payments/payments.html", **found, share_price=governance.current_terms().params["share_price_cents"])


@bp.route("/coordination/payments/deposits/<int:deposit_id>/confirm", methods=["POST"])
@coordinator_page
def confirm_deposit(deposit_id):
    deposit = services.confirm_deposit(authenticated_user(), get_or_404(Deposit, deposit_id, "deposit"))
    return done(
        "payments_pages.payments",
        _(
            "Deposit %(id)s confirmed: %(amount)s is available to %(requester)s.",
            id=deposit.id,
            amount=format_money(deposit.amount_cents),
            requester=deposit.requester.display_name,
        ),
    )


@bp.route("/coordination/payments/shares/<int:user_id>/confirm", methods=["POST"])
@coordinator_page
def confirm_share(user_id):
    applicant = get_or_404(User, user_id, "user")
    form = ShareConfirmForm()
    data = validated(form, AdmissionSchema())
    if data is None:
        raise Invalid(g.form_error, {"payment_reference": form.payment_reference.errors})
    governance.admit_applicant(authenticated_user(), applicant, data.get("payment_reference"))
    return done(
        "payments_pages.payments",
        _("%(name)s's share payment is confirmed: they are a member now.", name=applicant.display_name),
    )


@bp.route("/coordination/payments/shares/<int:user_id>/refuse", methods=["POST"])
@coordinator_page
def refuse_share(user_id):
    """Turn down an application whose transfer never came (or, under approval, the applicant); a held share goes back."""
    applicant = get_or_404(User, user_id, "user")
    form = RefusalForm()
    data = validated(form, RefusalSchema())
    if data is None:
        raise Invalid(g.form_error, {"reason": form.reason.errors})
    governance.refuse_applicant(authenticated_user(), applicant, data["reason"].strip())
    return done("payments_pages.payments", _("The application of %(name)s is refused.", name=applicant.display_name))


@bp.route("/coordination/payments/withdrawals/<int:withdrawal_id>/confirm", methods=["POST"])
@coordinator_page
def confirm_withdrawal(withdrawal_id):
    withdrawal = services.confirm_withdrawal(authenticated_user(), get_or_404(Withdrawal, withdrawal_id, "withdrawal"))
    return done(
        "payments_pages.payments",
        _(
            "Payout %(id)s of %(amount)s to %(name)s recorded as sent.",
            id=withdrawal.id,
            amount=format_money(withdrawal.amount_cents),
            name=withdrawal.user.display_name,
        ),
    )
