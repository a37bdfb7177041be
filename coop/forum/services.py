"""Forum services: boards."""
import sqlalchemy as sa

from coop.extensions import db
from coop.forum.models import Board

DEFAULT_BOARDS = (
    ("members", "Members' hall", "members"),
    ("public", "Public square", "public"),
)


def ensure_default_boards() -> list[str]:
    """Create the founding boards where missing; returns the slugs created."""
    created = []
    for slug, title, visibility in DEFAULT_BOARDS:
        if db.session.scalar(sa.select(Board.id).where(Board.slug == slug)) is None:
            db.session.add(Board(slug=slug, title=title, visibility=visibility))
            created.append(slug)
    db.session.flush()
    return created
