"""Messages about one assignment between its worker and the batch's requester, under pseudonyms."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coop import clock
from coop.accounts.models import User
from coop.errors import Forbidden, Invalid
from coop.extensions import db
from coop.marketplace.models import Assignment, AssignmentMessage
from coop.marketplace.services.common import paged
from coop.webhooks import services as webhooks

MESSAGE_MAX = 2_000
NOT_YOUR_CONVERSATION = (
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
        raise Invalid("A message needs some text.", {"body": ["Write something (at most 2,000 characters)."]})
    message = AssignmentMessage(assignment_id=assignment.id, author_id=user.id, body=text, created_at=clock.now())
    db.session.add(message)
    db.session.flush()
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
