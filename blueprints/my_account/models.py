"""What My account keeps of its own: the lessons she marked done. (Her account itself,
``Customer``, is ``account/models.py``: every area may know it.)"""

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.types import UTCDateTime, utcnow
from extensions import db


class LessonProgress(db.Model):
    """A lesson of a bought program that the customer marked done (one row per customer
    and lesson). Read with her programs on ``/account/`` ("3 of 12 done", where to go
    on); deleting her account or the lesson deletes the row."""

    __tablename__ = "lesson_progress"
    __table_args__ = (db.UniqueConstraint("customer_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(db.ForeignKey("customer.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(
        db.ForeignKey("program_lesson.id", ondelete="CASCADE"), index=True
    )
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
