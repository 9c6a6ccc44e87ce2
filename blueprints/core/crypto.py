"""Columns encrypted at rest with the ``DATA_KEY`` setting (``FLASK_DATA_KEY``).

For data that must not be readable by someone who gets a copy of the database alone: a
client's health answers. Fernet (``cryptography``: AES-128-CBC with an HMAC-SHA256 tag)
does the work; nothing here is hand-made crypto.

``DATA_KEY`` is one Fernet key (urlsafe base64 of 32 bytes) or several separated by
commas, newest first: the first encrypts, every one decrypts. A key is rotated by putting
the new one in front, running ``flask --app app privacy reencrypt`` (every stored value
written again with the new key), then dropping the old one (docs/deploy.md).

A value that no key opens (the wrong key, or a row changed by hand) raises
:class:`DataKeyError` with a message saying so: never garbage, never an empty string.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class DataKeyError(RuntimeError):
    """``DATA_KEY`` is missing or malformed, or does not open a stored value."""


def parse_keys(setting):
    """The Fernet keys of a ``DATA_KEY`` setting (a string with commas, or a list), in
    order; raises :class:`DataKeyError` when there is none or one is not a Fernet key."""
    if isinstance(setting, list | tuple):
        parts = [str(p).strip() for p in setting]
    else:
        parts = [p.strip() for p in str(setting or "").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise DataKeyError(
            "FLASK_DATA_KEY is not set: health answers cannot be stored or read. "
            "See docs/deploy.md for how to make a key."
        )
    keys = []
    for position, part in enumerate(parts, start=1):
        try:
            keys.append(Fernet(part.encode()))
        except (ValueError, TypeError):
            raise DataKeyError(
                f"FLASK_DATA_KEY: key {position} is not a Fernet key (urlsafe base64 of "
                "32 bytes). See docs/deploy.md for how to make one."
            ) from None
    return keys


@lru_cache(maxsize=8)
def _cipher(setting):
    return MultiFernet(parse_keys(setting))


def cipher(setting=None):
    """The MultiFernet of ``setting`` (default: the app's ``DATA_KEY``)."""
    if setting is None:
        setting = current_app.config.get("DATA_KEY")
    if isinstance(setting, list):
        setting = ",".join(setting)
    return _cipher(setting)


def encrypt_text(value, setting=None):
    return cipher(setting).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token, setting=None):
    try:
        return cipher(setting).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise DataKeyError(
            "A stored health answer cannot be decrypted with FLASK_DATA_KEY: the key is "
            "wrong, or an old key was dropped before the rows were re-encrypted."
        ) from None


class EncryptedText(TypeDecorator):
    """Text kept encrypted in the database and plain in Python. ``None`` stays NULL.

    The stored value is a Fernet token (ASCII, about 4/3 of the text plus 57 bytes and
    padding); queries cannot compare or search the plain text, by design."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt_text(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt_text(value)
