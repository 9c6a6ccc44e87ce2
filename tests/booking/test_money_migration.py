"""Migration 5a1c2e8d9f30 fills booking_event.money_cents for the history already there:
each payment once, each refund by what it gave back (Stripe's running total turned into
steps), and nothing for a wrong amount given back at once."""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.core.test_migrations import _run

BEFORE = "279c05ddfd76"
BOOKING = sa.text(
    "INSERT INTO booking (id, public_id, consultation_type_id, status, starts_at, ends_at,"
    " buffer_ends_at, name, email, phone, client_timezone, call_type, age_range, t_scores,"
    " fractures, medications, goals, policy_accepted_at, price_cents, currency, paid_cents,"
    " refunded_cents, ics_sequence, created_at, updated_at) VALUES (:id, :public_id, 1,"
    " 'cancelled', :now, :later, :later, 'Client', 'c@example.com', '1', 'UTC', 'video', '', '',"
    " '', '', '', :now, 35000, 'usd', 35000, 35000, 0, :now, :now)"
)
EVENT = sa.text(
    "INSERT INTO booking_event (booking_id, kind, actor, detail, created_at)"
    " VALUES (:booking, :kind, 'stripe', :detail, :now)"
)
HISTORIES = {
    # Paid; two refunds in Stripe's dashboard (its running total); the rest on cancelling.
    1: [("paid", 35000, 35000), ("confirmed", None, None), ("refund_recorded", 5000, -5000),
        ("refund_recorded", 7000, -2000), ("refunded", 28000, -28000)],
    # A wrong amount, refunded at once: never counted.
    2: [("amount_mismatch", 100, None), ("refunded", 100, None)],
    # Paid after the time was taken: refunded in full.
    3: [("paid", 35000, 35000), ("late_payment_refunded", 35000, -35000)],
}  # fmt: skip


def test_upgrade_fills_the_money_of_each_booking_event_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    try:
        _run(url, "upgrade", BEFORE)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO consultation_type (id, slug, name, summary, duration_minutes,"
                    " buffer_minutes, price_cents, currency, offers_phone, offers_video, active,"
                    " position) VALUES (1, 'initial', 'Initial', '', 60, 30, 35000, 'usd',"
                    " true, true, true, 0)"
                )
            )
            for booking, history in HISTORIES.items():
                conn.execute(
                    BOOKING, {"id": booking, "public_id": f"b{booking}", "now": now, "later": later}
                )
                for kind, amount, _money in history:
                    detail = json.dumps({"amount_cents": amount}) if amount else ""
                    conn.execute(
                        EVENT, {"booking": booking, "kind": kind, "detail": detail, "now": now}
                    )
        _run(url, "upgrade")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT booking_id, money_cents FROM booking_event ORDER BY id")
            ).all()
        expected = [(b, money) for b, history in HISTORIES.items() for *_, money in history]
        assert rows == expected
    finally:
        engine.dispose()
