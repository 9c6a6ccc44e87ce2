"""A reader's data on the newsletter list: her subscription for her download, and its
erasure when she deletes her account."""

from sqlalchemy import delete, select

from blueprints.core.addresses import normalise_email
from blueprints.newsletter.models import NewsletterDelivery, NewsletterIssue, Subscriber
from extensions import db


def _when(value):
    return value.isoformat() if value else None


def _subscriber(email):
    return db.session.scalar(
        select(Subscriber).where(Subscriber.email_normalized == normalise_email(email))
    )


def subscription_for_export(email):
    """Her place on the list as a plain dict (None when the address was never on it),
    with each issue sent to her."""
    subscriber = _subscriber(email)
    if subscriber is None:
        return None
    deliveries = db.session.execute(
        select(NewsletterDelivery, NewsletterIssue.subject)
        .join(NewsletterIssue, NewsletterIssue.id == NewsletterDelivery.issue_id)
        .where(NewsletterDelivery.subscriber_id == subscriber.id)
        .order_by(NewsletterDelivery.id)
    ).all()
    return {
        "email": subscriber.email,
        "first_name": subscriber.first_name,
        "status": str(subscriber.status),
        "signed_up_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "unsubscribed_at": _when(subscriber.unsubscribed_at),
        "bounced_at": _when(subscriber.bounced_at),
        "paused_until": _when(subscriber.paused_until),
        "issues": [
            {"subject": subject, "status": str(d.status), "sent_at": _when(d.sent_at)}
            for d, subject in deliveries
        ],
    }


def erase_subscriber_of(email):
    """Her account is being deleted: she leaves the list and her row, with the record
    of each issue sent to her, is erased (a later signup starts again with the double
    opt-in). Returns True when she was on the list. Flushes."""
    subscriber = _subscriber(email)
    if subscriber is None:
        return False
    db.session.execute(
        delete(NewsletterDelivery)
        .where(NewsletterDelivery.subscriber_id == subscriber.id)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(subscriber)
    db.session.flush()
    return True
