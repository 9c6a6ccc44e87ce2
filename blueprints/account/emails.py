"""The account's emails, queued in the outbox (sent after the commit)."""

from blueprints.account.codes import CODE_MINUTES
from blueprints.account.links import sign_in_link_url
from blueprints.core.outbox import queue_email


def send_sign_in_code(email, code, link_token):
    """Queue the sign-in email: the 6-digit code and the sign-in link, to that address
    only. The same email whether the address has an account or not (her account is
    made when she first signs in). The outbox forgets its text once it is sent."""
    return queue_email(
        email,
        "account_sign_in",
        "Your Better Bones sign-in code",
        code=code,
        link=sign_in_link_url(link_token),
        minutes=CODE_MINUTES,
        forget_text=True,  # the code and link live in her mailbox only
    )
