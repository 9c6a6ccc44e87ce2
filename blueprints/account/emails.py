"""The account's emails, queued in the outbox (sent after the commit)."""

from blueprints.account.codes import CODE_MINUTES
from blueprints.account.links import sign_in_link_url, sign_in_page_url
from blueprints.core.outbox import queue_email


def send_sign_in_code(email, code, link_token, by_staff=False):
    """Queue the sign-in email: the 6-digit code and the sign-in link, to that address
    only. The same email whether the address has an account or not (her account is
    made when she first signs in). ``by_staff``: Dr. Brown's team sent it at her
    request (it says so, and where the sign-in page is), not someone typing an
    address. The outbox forgets its text once it is sent."""
    return queue_email(
        email,
        "account_sign_in",
        "Your Better Bones sign-in code",
        code=code,
        link=sign_in_link_url(link_token),
        minutes=CODE_MINUTES,
        by_staff=by_staff,
        sign_in_page=sign_in_page_url(),
        forget_text=True,  # the code and link live in her mailbox only
    )
