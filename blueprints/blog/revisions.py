"""A post's revisions: each save keeps its title, summary and body, who saved it and
when; staff compare one with the version before it and restore it (a new revision, so
nothing is ever lost). The newest ``MAX_REVISIONS`` of a post are kept. Each function
flushes and never commits.
"""

import difflib
from dataclasses import dataclass

from sqlalchemy import delete, select

from blueprints.blog.cache_tags import BLOG_TAG, post_page_tag
from blueprints.blog.models import PostRevision, PostStatus
from blueprints.blog.references import render_body
from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import invalidate_after_commit
from blueprints.core.timezones import format_when, practitioner_zone
from extensions import db

# A post edited daily for months keeps its last few months; older ones go.
MAX_REVISIONS = 100


def _name_of(actor):
    return (getattr(actor, "name", None) or getattr(actor, "email", "") or "")[:120]


def record_revision(post, *, actor, note=""):
    """Keep the post's current title, summary and body as a revision by ``actor`` (a
    staff account), dropping the oldest beyond ``MAX_REVISIONS``. Flushes."""
    revision = PostRevision(
        post_id=post.id,
        author_id=actor.id if actor is not None else None,
        author_name=_name_of(actor),
        title=post.title,
        summary=post.summary or "",
        body_md=post.body_md,
        note=note[:120],
    )
    db.session.add(revision)
    db.session.flush()
    keep = (
        select(PostRevision.id)
        .where(PostRevision.post_id == post.id)
        .order_by(PostRevision.id.desc())
        .limit(MAX_REVISIONS)
    )
    db.session.execute(
        delete(PostRevision)
        .where(PostRevision.post_id == post.id, PostRevision.id.not_in(keep.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return revision


def revisions_of(post):
    """The post's revisions, newest first."""
    return db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.id.desc())
    ).all()


def revision_of(post, revision_id):
    """The revision ``revision_id`` of ``post``, or None (another post's is None too)."""
    revision = db.session.get(PostRevision, revision_id)
    return revision if revision is not None and revision.post_id == post.id else None


def previous_revision(revision):
    """The revision saved just before ``revision``, or None for the first."""
    return db.session.scalar(
        select(PostRevision)
        .where(PostRevision.post_id == revision.post_id, PostRevision.id < revision.id)
        .order_by(PostRevision.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison: ``kind`` is ``same``, ``added`` or ``removed``."""

    kind: str
    text: str


def diff_lines(before, after):
    """The lines of ``after`` compared with ``before`` (texts), as ``DiffLine``s; lines
    that did not change are kept, so the reader sees them in context. Whole lines only
    (no comparison within a line), so a long post compares quickly."""
    old, new = (before or "").splitlines(), (after or "").splitlines()
    lines = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", text) for text in old[i1:i2]]
            continue
        lines += [DiffLine("removed", text) for text in old[i1:i2]]
        lines += [DiffLine("added", text) for text in new[j1:j2]]
    return lines


def restore_revision(post, revision, *, actor):
    """Put ``revision``'s title, summary and body back into the post, as a new revision
    (the versions in between stay in the list). Flushes; returns the new revision."""
    post.title = revision.title
    post.summary = revision.summary
    post.body_md = revision.body_md
    post.body_html = render_body(revision.body_md, len(post.references))
    if post.status == PostStatus.PUBLISHED:
        invalidate_after_commit(BLOG_TAG, post_page_tag(post.slug))
    db.session.flush()
    when = format_when(revision.created_at, practitioner_zone())
    record_staff_action(
        actor.id, "post.restore", "post", post.id, {"title": post.title, "revision": revision.id}
    )
    return record_revision(post, actor=actor, note=f"Restored the version of {when}")
