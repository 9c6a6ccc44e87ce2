"""Who may be believed about a comment's author: names that look like ours, and the
signed "known commenter" cookie.

Anything typed into the public form is a claim, not proof. A name that reads like Dr.
Brown's or the site's (``RESERVED_COMMENT_NAMES``) always waits for a person, however it
is spelt. An address proves itself only from its mailbox: the email sent when a comment
is approved carries a link (``links.known_commenter_url``) whose confirmation sets
:data:`KNOWN_COMMENTER_COOKIE` in that browser. It is a cookie of its own, not the Flask
session: the session makes a reader's pages private (never cached), while this cookie is
read only by the comment POST, so a known commenter still gets cached post pages.

Also what the site holds of one commenter by her address: her comments (My account), the
name she last used, and whether she wants to hear of Dr. Brown's replies.
"""

import hashlib
import hmac
import re
import unicodedata
from datetime import timedelta

from flask import current_app
from itsdangerous import BadData
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from blueprints.blog.models import Comment, ReplyNoticeOptOut
from blueprints.core.addresses import normalise_email
from blueprints.core.links import signer
from extensions import db

# Set aside when comparing names. (Not "Ma", "Do" or "Ba": they are also surnames.)
HONORIFICS = frozenset(
    {
        *("dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "madam"),
        *("sir", "dame", "phd", "md", "nd", "rn", "rd", "msc", "bsc", "mph", "cns", "jr", "sr"),
    }
)
# Letters from other scripts that readers would take for Latin ones (after casefolding):
# "Susаn" with a Cyrillic "а" must not pass for a different name.
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b", "ӏ": "l", "һ": "h", "α": "a", "β": "b",
        "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x",
    }
)  # fmt: skip
# "Ph. D." and "M.D." are degrees, not a word "ph" and two initials.
_DOTTED_DEGREES = ((re.compile(r"\bp\W*h\W*d\b"), "phd"), (re.compile(r"\bm\W+d\b"), "md"))
_NOT_A_LETTER = re.compile(r"[\W_]+")

KNOWN_COMMENTER_COOKIE = "bb_known_commenter"
KNOWN_COMMENTER_LIFETIME = timedelta(days=365)
_COOKIE_SALT = "blog-known-commenter-cookie"


# --- names ------------------------------------------------------------------------------------


def name_words(name):
    """The words of a name as compared: case, accents, punctuation, spacing, invisible
    characters, look-alike letters, titles, degrees and initials all set aside."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name or "").casefold())
    text = "".join(
        ch for ch in text if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    ).translate(_LOOKALIKES)
    for pattern, degree in _DOTTED_DEGREES:
        text = pattern.sub(degree, text)
    words = _NOT_A_LETTER.sub(" ", text).split()
    return tuple(word for word in words if len(word) > 1 and word not in HONORIFICS)


def _only_titles(name):
    words = _NOT_A_LETTER.sub(" ", (name or "").casefold()).split()
    return bool(words) and all(word in HONORIFICS for word in words)


def looks_like_staff(name, reserved=None):
    """True when ``name`` reads as one of the reserved names (``RESERVED_COMMENT_NAMES``):
    the same words in any order, or a longer name containing one ("Better Bones Team"),
    or a bare title ("Dr."). A one-word reserved name matches only on its own, so
    "Brown" is held but "James Brown" is not."""
    if _only_titles(name):
        return True
    words = name_words(name)
    if not words:
        return False
    joined = "".join(words)
    if reserved is None:
        reserved = current_app.config["RESERVED_COMMENT_NAMES"]
    for reserved_name in reserved:
        own = name_words(reserved_name)
        if not own:
            continue
        if len(own) == 1:
            if joined == own[0]:
                return True
        elif "".join(own) in joined or set(own) <= set(words):
            return True
    return False


# --- the known-commenter cookie ----------------------------------------------------------------


def _address_digest(email):
    # The cookie names the address by its digest: a shared computer's cookie jar does not
    # show whose address it is, and the signature makes it unforgeable either way.
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def known_commenter_cookie(email):
    """The signed cookie value that proves this browser confirmed ``email``."""
    return signer(_COOKIE_SALT).dumps(_address_digest(email))


def cookie_proves(cookie_value, email):
    """True when ``cookie_value`` is our signed, unexpired cookie for ``email``."""
    if not cookie_value or not isinstance(cookie_value, str):
        return False
    try:
        digest = signer(_COOKIE_SALT).loads(
            cookie_value, max_age=int(KNOWN_COMMENTER_LIFETIME.total_seconds())
        )
    except BadData:
        return False
    return isinstance(digest, str) and hmac.compare_digest(digest, _address_digest(email))


def remember_commenter(response, email):
    """Set the known-commenter cookie for ``email`` on ``response``: long-lived, never
    readable by scripts, sent only to the blog's pages."""
    response.set_cookie(
        KNOWN_COMMENTER_COOKIE,
        known_commenter_cookie(email),
        max_age=int(KNOWN_COMMENTER_LIFETIME.total_seconds()),
        path="/blog/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


# --- a commenter's own comments ------------------------------------------------------------


def comments_by_email(email):
    """Every comment written with ``email``, newest first, each with its post (one
    query): what the commenter's account lists, with each comment's state."""
    return db.session.scalars(
        select(Comment)
        .join(Comment.post)
        .options(contains_eager(Comment.post))
        .where(Comment.author_email == normalise_email(email))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()


def last_name_used(email):
    """The name ``email`` last commented under (to fill in the form), or ``""``."""
    return (
        db.session.scalar(
            select(Comment.author_name)
            .where(Comment.author_email == normalise_email(email), Comment.by_staff.is_(False))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(1)
        )
        or ""
    )


def reply_notices_wanted(email):
    """False once ``email`` asked not to be told of Dr. Brown's replies."""
    return not db.session.scalar(
        select(exists().where(ReplyNoticeOptOut.email == normalise_email(email)))
    )


def stop_reply_notices(email):
    """Never again email ``email`` that Dr. Brown replied (the signed link in that
    email). Doing it twice is the same as once. Flushes."""
    email = normalise_email(email)
    if reply_notices_wanted(email):
        try:
            with db.session.begin_nested():
                db.session.add(ReplyNoticeOptOut(email=email))
        except IntegrityError:
            pass  # the same link followed twice at once: stopped either way
