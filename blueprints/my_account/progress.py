"""A customer's progress through the programs she bought: the lessons she marked done,
how many of each program, and where to go on.

Only a lesson of a program her address may read (``shop/programs.py``) can be marked;
any other is as unknown as one that does not exist. Flushes, never commits.
"""

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from blueprints.core.types import utcnow
from blueprints.my_account.models import LessonProgress
from blueprints.shop.models import Product, ProgramLesson
from blueprints.shop.programs import programs_for_email
from extensions import db


@dataclass
class ProgramProgress:
    """One bought program with the lessons she marked done."""

    program: object  # shop Product, its lessons loaded
    done_ids: frozenset
    last_done_id: int | None = None

    @property
    def lessons(self):
        return self.program.lessons

    @property
    def total(self):
        return len(self.lessons)

    @property
    def done_count(self):
        return sum(1 for lesson in self.lessons if lesson.id in self.done_ids)

    @property
    def finished(self):
        return self.total > 0 and self.done_count == self.total

    @property
    def started(self):
        return self.done_count > 0

    def is_done(self, lesson):
        return lesson.id in self.done_ids

    @property
    def continue_lesson(self):
        """Where she left off: the first lesson not done after the one she marked done
        last, else the first not done at all; None once every lesson is done."""
        lessons = self.lessons
        start = 0
        for index, lesson in enumerate(lessons):
            if lesson.id == self.last_done_id:
                start = index + 1
        for lesson in (*lessons[start:], *lessons[:start]):
            if lesson.id not in self.done_ids:
                return lesson
        return None


def _progress_rows(customer, lesson_ids):
    if not lesson_ids:
        return []
    return db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.done_at)
        .where(LessonProgress.customer_id == customer.id, LessonProgress.lesson_id.in_(lesson_ids))
        .order_by(LessonProgress.done_at, LessonProgress.id)
    ).all()


def progress_of(customer, programs):
    """``[ProgramProgress]`` for ``programs`` (their lessons loaded): one query."""
    rows = _progress_rows(customer, [lesson.id for p in programs for lesson in p.lessons])
    done = {row.lesson_id for row in rows}
    order = [row.lesson_id for row in rows]  # oldest first: the last is the latest
    result = []
    for program in programs:
        own = frozenset(lesson.id for lesson in program.lessons) & done
        last = next((lesson_id for lesson_id in reversed(order) if lesson_id in own), None)
        result.append(ProgramProgress(program, own, last))
    return result


def programs_of(customer):
    """Every program she may read, with her progress (three queries)."""
    return progress_of(customer, programs_for_email(customer.email, with_lessons=True))


def program_of(customer, slug):
    """Her progress in the program ``slug`` when it is hers, else None."""
    return next((p for p in programs_of(customer) if p.program.slug == slug), None)


def lesson_of(customer, slug, position):
    """``(ProgramProgress, lesson)`` for lesson ``position`` of her program ``slug``, or
    None when she may not read it."""
    progress = program_of(customer, slug)
    if progress is None:
        return None
    lesson = next((le for le in progress.lessons if le.position == position), None)
    return None if lesson is None else (progress, lesson)


def lesson_done_state(customer, program, lesson):
    """For a lesson page reached another way (an order's link): None when the lesson is
    not hers (or nobody is signed in), else whether she marked it done."""
    if customer is None:
        return None
    found = lesson_of(customer, program.slug, lesson.position)
    if found is None or found[1].id != lesson.id:
        return None
    return found[0].is_done(lesson)


def mark_lesson_done(customer, lesson):
    """Record the lesson as done; marking it twice (two tabs, a double click) keeps the
    first time. Flushes."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LessonProgress)
        .values(customer_id=customer.id, lesson_id=lesson.id, done_at=utcnow())
        .on_conflict_do_nothing(index_elements=["customer_id", "lesson_id"])
    )
    db.session.flush()


def mark_lesson_not_done(customer, lesson):
    """Take the mark off again (she clicked by mistake). Flushes."""
    db.session.execute(
        delete(LessonProgress).where(
            LessonProgress.customer_id == customer.id, LessonProgress.lesson_id == lesson.id
        )
    )
    db.session.flush()


def progress_for_export(customer):
    """The lessons she marked done, for "Download my data"."""
    rows = db.session.execute(
        select(Product.name, ProgramLesson.position, ProgramLesson.title, LessonProgress.done_at)
        .join(ProgramLesson, ProgramLesson.id == LessonProgress.lesson_id)
        .join(Product, Product.id == ProgramLesson.product_id)
        .where(LessonProgress.customer_id == customer.id)
        .order_by(Product.name, ProgramLesson.position)
    )
    return [
        {"program": name, "lesson": position, "title": title, "done_at": done_at.isoformat()}
        for name, position, title, done_at in rows
    ]


def erase_progress_of(customer):
    """Forget which lessons she marked done (deleting her account). Flushes; how many."""
    return db.session.execute(
        delete(LessonProgress)
        .where(LessonProgress.customer_id == customer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
