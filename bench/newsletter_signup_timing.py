"""Benchmark: how long a newsletter signup takes, by the state of the address typed.

If a signup for an address already on the list answers faster or slower than one for a
new address, anyone can learn who subscribes by timing the form (issue 17, finding 7).
This posts the signup form in-process (a Flask test client, rate limits and CSRF off)
for a few hundred addresses in each state, the states taken in turn so that any drift
of the machine falls on all of them alike, and prints the median, the 90th percentile
and the SQL statements of one request per state.

    .venv/bin/python bench/newsletter_signup_timing.py                    # SQLite, 300 each
    .venv/bin/python bench/newsletter_signup_timing.py --n 500 --smtp     # mail sent in-process
    .venv/bin/python bench/newsletter_signup_timing.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_signup

Without ``--smtp`` no mail server is set, so a queued email is written to the log (which
is silenced here) instead of sent: the figures are the request's own work. With
``--smtp`` an SMTP server in this process accepts and discards the mail, so delivery
counts too wherever it happens inside the request. The PostgreSQL database named by
``--database-url`` is emptied first (its tables dropped and created).

Not a test: it prints figures and asserts nothing.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not whatever the virtualenv points at

# Each state as the subscriber row is before the signup. "emailed today" is an address
# that got a signup email less than a day ago: a repeat signup, which sends nothing more.
STATES = {
    "new": None,
    "pending": {"status": "pending", "sent_days_ago": 2},
    "pending, emailed today": {"status": "pending", "sent_days_ago": 0},
    "confirmed": {"status": "confirmed", "sent_days_ago": 30},
    "paused": {"status": "confirmed", "sent_days_ago": 30, "paused": True},
    "unsubscribed": {"status": "unsubscribed", "sent_days_ago": 30},
    "bounced": {"status": "bounced", "sent_days_ago": 30},
}


# When each request's response was ready: set by the app's first after_request hook.
READY = []


def install_ready_mark(app):
    """Mark the moment the view's response is ready, before the other after_request
    hooks run (they run in reverse order of registration, so this one, last, is first)."""

    @app.after_request
    def _response_ready(response):
        READY.append(time.perf_counter())
        return response


def _config(database_url, smtp_port):
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret",
        "SITE_URL": "https://betterbones.example",
        "MAIL_SERVER": "127.0.0.1" if smtp_port else None,
        "MAIL_PORT": smtp_port or 25,
        "MAIL_SUPPRESS_SEND": False,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "PAGE_CACHE": False,
    }


def _address(state, i):
    return f"{state.replace(',', '').replace(' ', '-')}-{i}@example.com"


def fill(n):
    """A fresh schema with ``n`` subscribers in each existing state."""
    import sqlalchemy as sa

    from blueprints.core.types import utcnow
    from blueprints.newsletter.models import Subscriber
    from extensions import db

    db.drop_all()
    db.create_all()
    now = utcnow()
    rows = []
    for state, spec in STATES.items():
        if spec is None:
            continue
        sent_at = now - timedelta(days=spec["sent_days_ago"], minutes=1)
        confirmed = spec["status"] == "confirmed"
        for i in range(n + 1):  # one more for the warm-up
            address = _address(state, i)
            rows.append(
                {
                    "email": address,
                    "email_normalized": address,
                    "first_name": "Reader",
                    "status": spec["status"],
                    "created_at": sent_at,
                    "confirm_sent_at": sent_at,
                    "confirmed_at": sent_at if confirmed else None,
                    "paused_until": now + timedelta(weeks=2) if spec.get("paused") else None,
                }
            )
    db.session.execute(sa.insert(Subscriber), rows)
    db.session.commit()


def _post(client, address):
    return client.post("/newsletter/", data={"email": address, "first_name": "Reader"})


def statements_per_state(client, count_from):
    """The SQL statements (verb and first table) of one signup per state; those run
    after the response was ready are shown in brackets."""
    import sqlalchemy as sa

    from extensions import db

    shapes = {}
    for state in STATES:
        seen = []

        def record(conn, cursor, statement, *args, seen=seen):
            words = statement.split()
            tables = [
                words[i + 1].strip('"') for i, w in enumerate(words[:-1]) if w in ("INTO", "FROM")
            ]
            target = words[1] if words[0] == "UPDATE" else (tables[0] if tables else "")
            shape = f"{words[0]} {target}".strip()
            seen.append(f"[after: {shape}]" if READY else shape)

        READY.clear()
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            _post(client, _address(state, count_from))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        shapes[state] = seen
    return shapes


def run(app, n):
    """Post ``n`` signups per state, the states in turn. Returns, by state, the seconds
    until the view's response was ready and until the test client had it back (after
    every ``after_request`` hook, which is where the outbox delivers today)."""
    client = app.test_client()
    for state in STATES:  # warm-up: one request per state, not measured
        _post(client, _address(state, n))
    to_response = {state: [] for state in STATES}
    whole = {state: [] for state in STATES}
    for i in range(n):
        for state in STATES:
            address = _address(state, i)
            READY.clear()
            started = time.perf_counter()
            response = _post(client, address)
            whole[state].append(time.perf_counter() - started)
            to_response[state].append(READY[0] - started)
            if response.status_code != 303:
                sys.exit(f"{state} {address}: HTTP {response.status_code}")
    return to_response, whole


def _smtp_sink():
    from aiosmtpd.controller import Controller

    from bench.common import free_port

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="signups per state (default 300)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--smtp", action="store_true", help="send the mail to a local server")
    args = parser.parse_args()

    from app import create_app
    from extensions import db

    logging.disable(logging.CRITICAL)  # "mail logged only" lines, one per signup
    smtp = _smtp_sink() if args.smtp else None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'signup.db'}"
        app = create_app(_config(url, smtp.port if smtp else None))
        install_ready_mark(app)
        with app.app_context():
            fill(args.n + 1)
            to_response, whole = run(app, args.n)
            shapes = statements_per_state(app.test_client(), args.n + 1)
            db.session.remove()
            db.engine.dispose()
    if smtp:
        smtp.stop()

    where = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    mail = "sent to a local SMTP server" if args.smtp else "logged, not sent"
    print(f"Newsletter signup POST, in-process, {where}, mail {mail}, {args.n} per state")
    print("  view: until the view's response is ready (the request's own work)")
    print("  whole: until the client has it, after every after_request hook (mail delivery)")
    print(
        f"{'state':<24}{'view median':>12}{'p90':>7}{'whole median':>13}{'p90':>7}  SQL statements"
    )
    for state in STATES:
        view, total = sorted(to_response[state]), sorted(whole[state])
        print(
            f"{state:<24}{_ms(statistics.median(view)):>12}{_ms(_p90(view)):>7}"
            f"{_ms(statistics.median(total)):>13}{_ms(_p90(total)):>7}  "
            f"{len(shapes[state])}: " + ", ".join(shapes[state])
        )


def _p90(ordered):
    return ordered[int(len(ordered) * 0.9)]


def _ms(seconds):
    return f"{seconds * 1000:.2f}"


if __name__ == "__main__":
    main()
