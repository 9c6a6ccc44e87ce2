"""Email the pages send (queued in the outbox, sent after the commit)."""

import logging
from email.utils import formataddr

from blueprints.account.services import staff_addresses
from blueprints.core.outbox import queue_email

log = logging.getLogger(__name__)


def send_contact_message(name, email, message):
    """Queue a reader's message to every staff address, with Reply-To set to her, so
    answering it in any mail program writes to her."""
    name = " ".join(name.split())
    addresses = staff_addresses()
    if not addresses:
        log.warning("A contact message from %s has no staff address to go to", email)
    for address in addresses:
        queue_email(
            address,
            "contact_message",
            f"A message from {name} (contact form)",
            headers={"Reply-To": formataddr((name, email))},
            name=name,
            email=email,
            message=message,
        )


def send_address_correction(name, wrong, right):
    """Tell every staff address that the contact message ``name`` sent from ``wrong``
    is to be answered at ``right`` (she saw the typo on the "thank you" page), with
    Reply-To set to the right address."""
    name = " ".join(name.split())
    for address in staff_addresses():
        queue_email(
            address,
            "contact_address_corrected",
            f"New address for {name}'s message (contact form)",
            headers={"Reply-To": formataddr((name, right))},
            name=name,
            wrong=wrong,
            right=right,
        )
