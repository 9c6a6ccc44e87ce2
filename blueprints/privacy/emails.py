"""The email with a fresh code before she downloads her data or deletes her account."""

from blueprints.account.codes import CODE_MINUTES
from blueprints.core.outbox import queue_email


def send_confirm_code(email, code):
    """Queue the code to ``email`` only; it is never logged, and the outbox's copy
    of the email loses its text once sent."""
    return queue_email(
        email,
        "account_confirm_code",
        "Your Better Bones code",
        code=code,
        minutes=CODE_MINUTES,
        forget_text=True,
    )
