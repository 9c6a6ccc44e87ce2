"""Tag versions: how a change clears every cached page (and value) that shows it.

Each cached page carries tags (``"blog"``, ``"post:<slug>"``) and, stored with it, the
version each tag had when it was rendered. A change bumps its tags' versions after the
commit (:func:`invalidate_after_commit`); a page whose stored versions are no longer all
current is a miss. A version outlives every page, so an eviction drops pages first.
"""

import hashlib
import logging
import secrets

from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import cache, db

log = logging.getLogger(__name__)

# Every cached page carries this tag: ``invalidate_after_commit(SITE_TAG)`` clears all.
SITE_TAG = "site"
_PENDING_TAGS = "page_cache_pending_tags"
# A tag version outlives every page (see blueprints/core/cache.py); a month unchanged
# costs each page of that tag one render.
TAG_VERSION_TIMEOUT = 30 * 24 * 60 * 60

try:  # the Redis client is optional: only the Redis backend can raise its errors
    from redis.exceptions import RedisError

    CACHE_ERRORS = (OSError, RedisError)
except ImportError:  # pragma: no cover
    CACHE_ERRORS = (OSError,)


def version_key(tag):
    return f"tagv:{tag}"


def tag_versions(tags):
    """The current version of each tag (a missing one is created, never reused)."""
    keys = [version_key(tag) for tag in tags]
    versions = cache.get_many(*keys)
    for index, value in enumerate(versions):
        if value is None:
            fresh = secrets.token_hex(8)
            # ``add`` only sets a missing key, so two workers agree on one value.
            if not cache.add(keys[index], fresh, timeout=TAG_VERSION_TIMEOUT):
                fresh = cache.get(keys[index]) or fresh
            versions[index] = fresh
    return versions


def bump_tags(*tags):
    """Make every page carrying any of ``tags`` unreachable now.

    Services call :func:`invalidate_after_commit` instead; this is for code outside a
    transaction (a CLI command, a test).
    """
    for tag in set(tags):
        cache.set(version_key(tag), secrets.token_hex(8), timeout=TAG_VERSION_TIMEOUT)


def invalidate_after_commit(*tags):
    """Clear the pages carrying ``tags`` once the current transaction commits.

    Call it from the service that makes the change, next to the change itself. A
    rollback forgets the tags, so a failed change clears nothing.
    """
    db.session.info.setdefault(_PENDING_TAGS, set()).update(tags)


@event.listens_for(Session, "after_commit")
def _bump_committed_tags(session):
    tags = session.info.pop(_PENDING_TAGS, None)
    if not tags:
        return
    try:
        bump_tags(*tags)
    except CACHE_ERRORS:
        # The change is saved; the pages expire with their timeout instead.
        log.exception("Could not clear cached pages for tags %s", sorted(tags))


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_tags(session):
    session.info.pop(_PENDING_TAGS, None)


# --- derived values --------------------------------------------------------------------


def cached_value(name, tags, compute, timeout=None):
    """A value computed from the data (a count, a list of topics), kept in the cache
    until one of ``tags`` is bumped, exactly like the pages that show it.

    Used for aggregates that grow with the data (counting 10,000 posts), so that even an
    uncached page render stays constant-time. ``compute`` must return something picklable
    (plain tuples, not ORM objects). Any cache error computes the value afresh.
    """
    try:
        versions = tag_versions(sorted(tags))
        key = (
            "value:"
            + hashlib.sha256("\x1f".join([name, *sorted(tags), *versions]).encode()).hexdigest()
        )
        value = cache.get(key)
    except CACHE_ERRORS as error:
        log.warning("Value cache unavailable (%s); computing %s", error, name)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, timeout=timeout)
        except CACHE_ERRORS as error:
            log.warning("Could not store %s in the cache: %s", name, error)
    return value
