"""Demo subscribers: a few confirmed readers, one pending, one who left, one paused.

Idempotent: an address already on the list is left as it is.
"""

from datetime import timedelta

import sqlalchemy as sa

from blueprints.core.types import utcnow
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from extensions import db

DEMO = [
    ("margaret.hill@example.com", "Margaret", SubscriberStatus.CONFIRMED, 40),
    ("joan.ortiz@example.com", "Joan", SubscriberStatus.CONFIRMED, 25),
    ("ruth.okafor@example.com", "Ruth", SubscriberStatus.CONFIRMED, 12),
    ("linda.chen@example.com", "", SubscriberStatus.CONFIRMED, 3),
    ("barbara.weiss@example.com", "Barbara", SubscriberStatus.PENDING, 1),
    ("carol.smith@example.com", "Carol", SubscriberStatus.UNSUBSCRIBED, 60),
]


LARGE_SUBSCRIBERS = 50_000


def seed(large=False):
    """Add the demo subscribers (and 5,000 more confirmed ones with ``large``)."""
    now = utcnow()
    existing = set(db.session.scalars(sa.select(Subscriber.email_normalized)))
    for email, first_name, status, days_ago in DEMO:
        if email in existing:
            continue
        joined = now - timedelta(days=days_ago)
        db.session.add(
            Subscriber(
                email=email,
                email_normalized=email,
                first_name=first_name,
                status=status,
                created_at=joined,
                confirmed_at=joined if status != SubscriberStatus.PENDING else None,
                unsubscribed_at=now - timedelta(days=5)
                if status == SubscriberStatus.UNSUBSCRIBED
                else None,
                paused_until=now + timedelta(days=10) if first_name == "Ruth" else None,
            )
        )
    if large:
        rows = [
            f"reader{i}@example.com"
            for i in range(LARGE_SUBSCRIBERS)
            if f"reader{i}@example.com" not in existing
        ]
        if rows:
            db.session.execute(
                sa.insert(Subscriber),
                [
                    {
                        "email": a,
                        "email_normalized": a,
                        "first_name": "",
                        "status": SubscriberStatus.CONFIRMED,
                        "created_at": now - timedelta(days=20),
                        "confirmed_at": now - timedelta(days=20),
                    }
                    for a in rows
                ],
            )
    db.session.flush()
