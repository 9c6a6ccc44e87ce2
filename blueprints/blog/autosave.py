"""The post editor's autosave: what a staff member has typed, kept on the server every
30 seconds (``static/js/post-autosave.js``) and whenever a form of hers arrives just
after her session ended, one copy per staff member and post (or new post). It is not a
revision and readers never see it; saving the post removes it. Each function flushes and
never commits.
"""

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from blueprints.blog.models import PostAutosave
from blueprints.core.types import utcnow
from extensions import db

NEW_POST_SLOT = "new"
# What one autosave may hold: the editor's fields, each at most this long (the body's
# own limit), and no more than this many of them.
MAX_FIELD_LENGTH = 200_000
MAX_FIELDS = 200
MAX_NAME_LENGTH = 80


def slot_of(post):
    """The autosave slot of ``post``, or of a new post (``post`` None)."""
    return f"post-{post.id}" if post is not None else NEW_POST_SLOT


def editor_fields(formdata, names):
    """The values of the editor's fields in ``formdata`` (a MultiDict: a request's form),
    keeping only the fields named in ``names`` and their sub-fields (``references-0-doi``),
    each trimmed to the longest a field may be. The CSRF token is never kept."""
    kept = {}
    for key in formdata:
        if len(kept) >= MAX_FIELDS or len(key) > MAX_NAME_LENGTH or key == "csrf_token":
            continue
        if key in names or key.split("-", 1)[0] in names:
            kept[key] = formdata.get(key, "")[:MAX_FIELD_LENGTH]
    return kept


def autosave_of(user_id, post):
    """The autosave of staff member ``user_id`` for ``post`` (None: a new post), or None."""
    return db.session.scalar(
        select(PostAutosave).where(
            PostAutosave.user_id == user_id, PostAutosave.slot == slot_of(post)
        )
    )


def store_autosave(user_id, post, fields):
    """Keep ``fields`` (``editor_fields``) as the autosave of ``user_id`` for ``post``,
    replacing the one before. Two tabs saving at once: the unique (user, slot) index
    lets one insert, and the other then updates. Flushes; returns the row."""
    now = utcnow()
    for _attempt in range(2):
        row = autosave_of(user_id, post)
        if row is not None:
            row.fields = dict(fields)
            row.saved_at = now
            db.session.flush()
            return row
        try:
            with db.session.begin_nested():
                row = PostAutosave(
                    user_id=user_id,
                    post_id=post.id if post is not None else None,
                    slot=slot_of(post),
                    fields=dict(fields),
                    saved_at=now,
                )
                db.session.add(row)
            return row
        except IntegrityError:
            continue
    raise RuntimeError("autosave: the row was neither inserted nor found")


def discard_autosave(user_id, post):
    """Forget the autosave of ``user_id`` for ``post`` (saved, or thrown away). Flushes."""
    db.session.execute(
        delete(PostAutosave)
        .where(PostAutosave.user_id == user_id, PostAutosave.slot == slot_of(post))
        .execution_options(synchronize_session=False)
    )
