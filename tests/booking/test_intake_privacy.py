"""Her intake answers are health data (issue #18.3): encrypted at rest with DATA_KEY,
unreadable with another key (a clear error, never garbage), re-encrypted on a key
rotation, and erased by ``flask privacy purge`` a set time after the consultation."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from blueprints.account.models import AccountCode
from blueprints.booking import display
from blueprints.booking.models import Booking
from blueprints.core.crypto import DataKeyError, parse_keys
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from extensions import db
from tests.booking.conftest import form_data, free, login_staff, make_confirmed

INTAKE = {
    "t_scores": "spine -2.6, hip -2.1",
    "fractures": "Wrist, 2019",
    "medications": "Alendronate since 2021",
    "goals": "Walk the coast path again",
}


def raw_intake(booking_id):
    """The four columns as the database holds them, bypassing the column type."""
    row = db.session.execute(
        text("SELECT t_scores, fractures, medications, goals FROM booking WHERE id = :id"),
        {"id": booking_id},
    ).one()
    return dict(zip(INTAKE, row, strict=True))


def confirmed_with_intake(ctype, days=20, **answers):
    booking = make_confirmed(ctype, _weekday_start(days))
    for name, value in (INTAKE | answers).items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def _weekday_start(days):
    start = (utcnow() + timedelta(days=days)).replace(hour=15, minute=0, second=0, microsecond=0)
    return start + timedelta(days=(2 - start.weekday()) % 7)  # a Wednesday, 15:00 UTC


def ended(booking, days_ago):
    """Move ``booking`` into the past: it ended ``days_ago`` days ago."""
    length = booking.ends_at - booking.starts_at
    booking.ends_at = utcnow() - timedelta(days=days_ago)
    booking.starts_at = booking.ends_at - length
    booking.buffer_ends_at = booking.ends_at
    db.session.commit()
    return booking


def test_answers_typed_in_the_form_are_stored_encrypted_and_read_back_plain(
    client, types, stripe_api
):
    slot = display.slot_value(free(types["initial"])[0])
    data = form_data(slot, medications="Alendronate since 2021")
    response = client.post("/consultations/initial-consultation/book", data=data)
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    stored = raw_intake(booking.id)
    for name in INTAKE:
        assert data[name] not in stored[name]
        assert stored[name].startswith("gAAAA")  # a Fernet token
    assert "spine" not in str(stored) and "Wrist" not in str(stored)
    db.session.expire_all()
    assert booking.t_scores == "spine -2.6, hip -2.1"
    assert booking.medications == "Alendronate since 2021"


def test_the_same_answer_encrypts_differently_each_time(types):
    first = confirmed_with_intake(types["initial"], days=20)
    second = confirmed_with_intake(types["follow_up"], days=27)
    assert raw_intake(first.id)["goals"] != raw_intake(second.id)["goals"]


def test_a_wrong_key_fails_clearly_instead_of_showing_garbage(app, types):
    booking = confirmed_with_intake(types["initial"])
    app.config["DATA_KEY"] = Fernet.generate_key().decode()
    db.session.expire_all()
    with pytest.raises(DataKeyError, match="cannot be decrypted with FLASK_DATA_KEY"):
        db.session.get(Booking, booking.id).t_scores  # noqa: B018


def test_a_malformed_or_missing_key_is_named_in_the_error():
    with pytest.raises(DataKeyError, match="not set"):
        parse_keys("")
    with pytest.raises(DataKeyError, match="key 2 is not a Fernet key"):
        parse_keys(f"{Fernet.generate_key().decode()},not-a-key")


def test_a_new_key_in_front_reads_old_rows_and_reencrypt_moves_them_to_it(app, types, runner):
    booking = confirmed_with_intake(types["initial"])
    old = app.config["DATA_KEY"]
    new = Fernet.generate_key().decode()
    app.config["DATA_KEY"] = f"{new},{old}"
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).goals == INTAKE["goals"]  # the old key reads

    result = runner.invoke(args=["privacy", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "bookings re-encrypted: 1" in result.output

    app.config["DATA_KEY"] = new  # the old key dropped
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).goals == INTAKE["goals"]
    stored = raw_intake(booking.id)
    assert Fernet(new.encode()).decrypt(stored["fractures"].encode()) == b"Wrist, 2019"


def test_purge_erases_answers_only_after_the_retention_time_and_counts_once(app, types, runner):
    app.config["INTAKE_RETENTION_DAYS"] = 365
    old = ended(confirmed_with_intake(types["initial"], days=20), days_ago=400)
    recent = ended(confirmed_with_intake(types["follow_up"], days=27), days_ago=30)
    upcoming = confirmed_with_intake(types["follow_up"], days=34)
    ids = (old.id, recent.id, upcoming.id)

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "intake answers erased: 1" in result.output

    db.session.expire_all()
    old, recent, upcoming = (db.session.get(Booking, i) for i in ids)
    assert (old.t_scores, old.fractures, old.medications, old.goals) == ("", "", "", "")
    assert old.intake_erased_at is not None
    assert old.name == "Client Example" and old.paid_cents == old.price_cents  # the rest stays
    assert "spine" not in str(raw_intake(old.id))
    assert recent.t_scores == INTAKE["t_scores"] and recent.intake_erased_at is None
    assert upcoming.goals == INTAKE["goals"]

    again = runner.invoke(args=["privacy", "purge"])
    assert "intake answers erased: 0" in again.output  # idempotent


def test_purge_takes_the_retention_from_the_option_and_deletes_old_codes(app, types, runner):
    booking = ended(confirmed_with_intake(types["initial"]), days_ago=40)
    now = utcnow()
    db.session.add_all(
        [
            AccountCode(
                email="a@example.com",
                purpose="sign_in",
                code_hash="x" * 64,
                created_at=now - timedelta(days=3),
                expires_at=now - timedelta(days=3),
            ),
            AccountCode(
                email="b@example.com",
                purpose="confirm",
                code_hash="y" * 64,
                created_at=now,
                expires_at=now + timedelta(minutes=10),
            ),
        ]
    )
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge", "--days", "30"])
    assert "intake answers erased: 1" in result.output
    assert "expired codes deleted: 1" in result.output
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).goals == ""
    assert db.session.scalars(select(AccountCode.email)).all() == ["b@example.com"]


def test_the_booking_form_says_how_health_answers_are_kept_and_links_to_privacy(client, types):
    slot = display.slot_value(free(types["initial"])[0])
    page = client.get(f"/consultations/initial-consultation/book?slot={slot}").get_data(
        as_text=True
    )
    assert "we keep them encrypted and erase them 365 days after your consultation" in page
    assert 'href="/privacy"' in page
    assert 'href="/terms"' in page.split("<main", 1)[1].split("</main>", 1)[0]
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    words = privacy.get_data(as_text=True)
    assert "encrypted" in words and "365 days after your consultation" in words
    assert "/account/sign-in" in words


def test_staff_read_the_answers_decrypted_and_see_when_they_were_erased(
    client, staff_user, types, runner
):
    booking = confirmed_with_intake(types["initial"])
    login_staff(client, staff_user)
    day = booking.starts_at.astimezone(practitioner_zone()).date().isoformat()
    page = client.get(f"/admin/schedule?day={day}").get_data(as_text=True)
    assert INTAKE["medications"] in page and "gAAAA" not in page

    runner.invoke(args=["privacy", "purge", "--days", "0"], catch_exceptions=False)
    still = client.get(f"/admin/schedule?day={day}").get_data(as_text=True)
    assert INTAKE["medications"] in still  # not ended yet: kept, even with --days 0
    booking = ended(db.session.get(Booking, booking.id), days_ago=2)
    runner.invoke(args=["privacy", "purge", "--days", "1"], catch_exceptions=False)
    day = booking.starts_at.astimezone(practitioner_zone()).date().isoformat()
    page = client.get(f"/admin/schedule?day={day}").get_data(as_text=True)
    assert "Health answers" in page and "erased" in page
    assert INTAKE["medications"] not in page
