"""Email about staff accounts (queued in the outbox, sent after the commit)."""

from blueprints.account.roles import ROLE_LABELS
from blueprints.account.staff_links import invitation_url, staff_sign_in_url
from blueprints.core.outbox import queue_email


def send_invitation(invitation, token, inviter):
    """The invitation's single-use link, to the invited address."""
    queue_email(
        invitation.email,
        "staff_invitation",
        "You are invited to help run the site",
        inviter_name=inviter.name or inviter.email,
        role_label=ROLE_LABELS[invitation.role],
        accept_url=invitation_url(token),
        sign_in_url=staff_sign_in_url(),
        hours=round((invitation.expires_at - invitation.created_at).total_seconds() / 3600),
    )
