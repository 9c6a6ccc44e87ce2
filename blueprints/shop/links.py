"""The shop's signed links: "My programs", opened from the order email and the success
page, no password needed (the signed email address is the key)."""

from itsdangerous import BadSignature

from blueprints.core.links import external_url, signer

PROGRAMS_SALT = "shop.my-programs"
PROGRAMS_LINK_MAX_AGE = 3 * 365 * 24 * 3600


def programs_token(email):
    return signer(PROGRAMS_SALT).dumps(email.strip().lower())


def email_from_programs_token(token):
    """The email a "My programs" link was made for, or None when it is not valid."""
    try:
        return signer(PROGRAMS_SALT).loads(token, max_age=PROGRAMS_LINK_MAX_AGE)
    except BadSignature:
        return None


def programs_url(email):
    """The absolute "My programs" link of ``email`` (for emails)."""
    return external_url("account.programs", token=programs_token(email))
