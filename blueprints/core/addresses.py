"""Email addresses: one normal form for lookups, one parser of the sender setting."""

from email.utils import parseaddr

from flask import current_app


def normalise_email(email):
    """The form an address is stored and looked up in: trimmed, lower case."""
    return (email or "").strip().lower()


def sender():
    """``MAIL_DEFAULT_SENDER`` as ``(name, address)``; it may be a plain address, a
    ``"Name <address>"`` string or a ``[name, address]`` pair."""
    setting = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(setting, list | tuple):
        name, address = setting
        return name, address
    return parseaddr(setting)


def sender_address():
    return sender()[1]


def sender_domain():
    return sender_address().rsplit("@", 1)[-1]
