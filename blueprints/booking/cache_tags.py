"""The cache tags of the consultation pages, named in one place: a misspelt tag would
clear nothing and leave stale free times on show, while a misspelt function fails."""

from blueprints.core.cache_tags import invalidate_after_commit

_TYPES = "booking"  # what can be booked: the list of types
_TIMES = "booking:times"  # the free times, one calendar for every type


def types_page_tags():
    """Tags of a page that lists the consultation types."""
    return [_TYPES]


def times_page_tags():
    """Tags of a page that shows free times."""
    return [_TYPES, _TIMES]


def times_changed():
    """Clear the free-times pages once the change commits (a hold, a booking, a change
    of time, an edit of Dr. Brown's hours)."""
    invalidate_after_commit(_TIMES)
