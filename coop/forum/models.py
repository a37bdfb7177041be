"""Forum tables: boards."""
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from coop.extensions import db

BOARD_VISIBILITIES = ("public", "members")


class Board(db.Model):
    __tablename__ = "boards"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    visibility: Mapped[str] = mapped_column(sa.String(16))

    __table_args__ = (sa.CheckConstraint(f"visibility IN {BOARD_VISIBILITIES}", name="visibility"),)
