"""Emailed codes (account/codes.py): 10 minutes, used once, five wrong tries end a code,
a code of one address never works for another, only HMACs stored."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.account.codes import (
    CONFIRM,
    MAX_CODE_FAILURES,
    check_code,
    email_for_link,
    issue_code,
    link_is_live,
)
from blueprints.account.customer_sign_in import PENDING_KEY
from blueprints.account.models import AccountCode, Customer
from blueprints.core.types import utcnow
from extensions import db


def _wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_signs_in_once_and_only_its_own_address(app):
    code, _ = issue_code("Ann@Example.com")
    db.session.commit()
    assert not check_code("bob@example.com", code)
    assert check_code("ann@example.com", code)
    assert not check_code("ann@example.com", code)  # used up


def test_five_wrong_tries_end_the_code(app):
    code, _ = issue_code("ann@example.com")
    for _ in range(MAX_CODE_FAILURES):
        assert not check_code("ann@example.com", _wrong(code))
    assert not check_code("ann@example.com", code)
    assert db.session.scalar(select(AccountCode.failures)) == MAX_CODE_FAILURES


def test_a_code_expires_after_ten_minutes(app):
    start = utcnow()
    code, _ = issue_code("ann@example.com", now=start)
    assert not check_code("ann@example.com", code, now=start + timedelta(minutes=10, seconds=1))
    assert check_code("ann@example.com", code, now=start + timedelta(minutes=9))


def test_a_new_code_ends_the_earlier_one(app):
    first, _ = issue_code("ann@example.com")
    second, _ = issue_code("ann@example.com")
    if first != second:
        assert not check_code("ann@example.com", first)
    assert check_code("ann@example.com", second)


def test_purposes_do_not_mix(app):
    code, link = issue_code("ann@example.com", purpose=CONFIRM)
    assert link is None
    assert not check_code("ann@example.com", code)  # not a sign-in code
    assert check_code("ann@example.com", code, purpose=CONFIRM)


def test_the_link_signs_in_once_and_looking_uses_nothing(app):
    _, link = issue_code("ann@example.com")
    assert link_is_live(link)
    assert link_is_live(link)
    assert email_for_link(link) == "ann@example.com"
    assert email_for_link(link) is None
    assert not link_is_live(link)
    assert email_for_link("not-a-link") is None


def test_only_hashes_are_stored(app):
    code, link = issue_code("ann@example.com")
    db.session.commit()
    row = db.session.scalar(select(AccountCode))
    assert code not in row.code_hash and link != row.link_hash
    assert len(row.code_hash) == 64


class TestGuessesAtOnce:
    """Twenty wrong codes and the right one sent at the same instant, each from its own
    browser: the five-tries bound holds when the tries race (PostgreSQL: SQLite takes
    one writer at a time, so nothing races there)."""

    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": False}  # the per-client limits are tested elsewhere

    @pytest.mark.postgres_only
    @pytest.mark.parametrize("wrong", [20, MAX_CODE_FAILURES - 1])
    def test_one_right_and_twenty_wrong_codes_at_once_sign_in_once_at_most(self, app, wrong):
        code, _ = issue_code("ann@example.com")
        db.session.commit()
        guesses = [code] + [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, wrong + 1)]
        barrier = threading.Barrier(len(guesses))
        results = [None] * len(guesses)

        def guess(i):
            client = app.test_client()
            with client.session_transaction() as session:
                session[PENDING_KEY] = {"email": "ann@example.com", "at": int(time.time())}
            data = {"code": guesses[i], "csrf_token": client.csrf_token()}
            barrier.wait()
            response = client.post("/account/sign-in/code", data=data)
            results[i] = response.status_code

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(guesses))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert set(results) <= {303, 400}, results
        assert results[1:].count(303) == 0, "a wrong code never signs in"
        db.session.expire_all()
        row = db.session.scalar(select(AccountCode))
        customers = db.session.scalar(select(func.count()).select_from(Customer))
        # Only tries at a live code count, so the row tells which came first.
        if results[0] == 303:
            # The right code came before the fifth wrong one: one sign-in, one account.
            assert row.used_at is not None and row.failures < MAX_CODE_FAILURES
            assert customers == 1
        else:
            assert wrong >= MAX_CODE_FAILURES, "fewer than five wrong tries cannot end it"
            # Five wrong ones came first: the code died then, and the right one after
            # them opened nothing.
            assert row.failures == MAX_CODE_FAILURES and customers == 0
        assert not check_code("ann@example.com", code), "used up or dead either way"
