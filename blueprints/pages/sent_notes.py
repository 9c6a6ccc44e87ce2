"""The note a contact "thank you" page carries of the message just sent: her name and
the address we will answer to, signed, in the page's correction form. With it she can
correct a mistyped address without writing her message again; no row is kept, and her
session does not hold the address after the page has shown it."""

from typing import NamedTuple

from itsdangerous import BadData

from blueprints.core.links import signer

SENT_NOTE_SALT = "pages-contact-sent-note"
# Long enough to notice a typo and correct it; the form is no use after that.
SENT_NOTE_MAX_AGE = 24 * 60 * 60


class SentNote(NamedTuple):
    name: str
    email: str


def sent_note(name, email):
    """The signed note of a message from ``name`` to be answered at ``email``."""
    return signer(SENT_NOTE_SALT).dumps([name, email])


def read_sent_note(token):
    """The ``SentNote`` a token names, or None for a missing, altered or old one."""
    if not token or not isinstance(token, str):
        return None
    try:
        data = signer(SENT_NOTE_SALT).loads(token, max_age=SENT_NOTE_MAX_AGE)
    except BadData:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(v, str) for v in data)):
        return None
    return SentNote(*data)
