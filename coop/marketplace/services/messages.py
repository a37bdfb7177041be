"""Messages about one assignment between its worker and the batch's requester, under pseudonyms."""

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from coop import clock
from coop.accounts.models import User
from coop.errors import Forbidden, Invalid
from coop.extensions import db
from coop.marketplace.models import Assignment, AssignmentMessage
from coop.marketplace.services.common import paged
from coop.notifications.services import notify
from coop.webhooks import services as webhooks

MESSAGE_MAX = 2_000
NOT_YOUR_CONVERSATION = _l(
    "Only the worker and the batch's requester exchange messages about an assignment; "
    "coordinators read them once the work is under appeal."
)


def _is_party(user: User, assignment: Assignment) -> bool:
    return user.id in (assignment.worker_id, assignment.batch.requester_id)


def send_message(user: User, assignment: Assignment, body: str) -> AssignmentMessage:
    """Write to the other party about this assignment: its worker to the requester, or back."""
    if not _is_party(user, assignment):
        raise Forbidden(NOT_YOUR_CONVERSATION)
    text = body.strip()
    if not text:
        raise Invalid(_("A message needs some text."), {"body": [_("Write something (at most 2,000 characters).")]})
    message = AssignmentMessage(assignment_id=assignment.id, author_id=user.id, body=text, created_at=clock.now())
    db.session.add(message)
    db.session.flush()
    other = assignment.batch.requester_id if user.id == assignment.worker_id else assignment.worker_id
    notify(
        [other],
        "message",
        f"assignment:{assignment.id}",
        {
            "assignment_id": assignment.id,
            "batch": assignment.batch.title,
            "message_id": message.id,
            "by": user.display_name,
            "excerpt": text if len(text) <= 140 else text[:137].rstrip() + "...",
        },
    )
    requester_id = assignment.batch.requester_id
    if user.id != requester_id:
        # The worker wrote: the requester's systems hear of it, under the worker's pseudonym.
        webhooks.emit(
            "message.received",
            {
                "message_id": message.id,
                "assignment_id": assignment.id,
                "batch_id": assignment.batch_id,
                "from": user.display_name,
                "body": message.body,
            },
            requester_id=requester_id,
        )
    return message


def read_messages(user: User, assignment: Assignment, args: dict) -> tuple[list[AssignmentMessage], str | None]:
    """The conversation about an assignment, oldest first: for its two parties, and coordinators during an appeal."""
    # An appeal puts the work before the coordinators; what was said about it is part of the record.
    if not (_is_party(user, assignment) or (user.is_coordinator and assignment.appeal is not None)):
        raise Forbidden(NOT_YOUR_CONVERSATION)
    stmt = (
        sa.select(AssignmentMessage)
        .where(AssignmentMessage.assignment_id == assignment.id)
        .options(joinedload(AssignmentMessage.author))
    )
    return paged(stmt, AssignmentMessage.id, args, descending=False)
