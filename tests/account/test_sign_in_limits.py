"""Rate limits of the customer's sign-in: codes emailed to one address (however it is
typed) and requests from one client address, each bounded; wrong codes from one client
bounded too."""

import pytest
from sqlalchemy import func, select

from blueprints.account.models import AccountCode
from extensions import db
from tests.account.sign_in_support import ask_code, sign_in_email, wrong


@pytest.fixture
def app_config():
    return {
        "CUSTOMER_SIGN_IN_ADDRESS_LIMIT": "3 per hour",
        "CUSTOMER_SIGN_IN_CLIENT_LIMIT": "5 per hour",
    }


def _codes():
    return db.session.scalar(select(func.count()).select_from(AccountCode))


def _from(app, number):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
    return client


def test_codes_to_one_address_are_limited_however_it_is_typed(app, mailbox):
    spellings = ["ann@example.com", "ANN@example.com", " Ann@Example.com ", "ann@EXAMPLE.COM"]
    answers = [ask_code(_from(app, n), typed).status_code for n, typed in enumerate(spellings)]
    assert answers == [303, 303, 303, 429]
    assert _codes() == 3
    # Another address is not held up by Ann's limit.
    assert ask_code(_from(app, 9), "bob@example.com").status_code == 303


def test_a_new_code_counts_towards_the_address_limit(app, client, mailbox):
    assert ask_code(client, "ann@example.com").status_code == 303
    assert client.post("/account/sign-in/new-code", data={}).status_code == 303
    assert client.post("/account/sign-in/new-code", data={}).status_code == 303
    assert client.post("/account/sign-in/new-code", data={}).status_code == 429
    assert ask_code(_from(app, 7), "ann@example.com").status_code == 429
    assert _codes() == 3


def test_one_client_is_limited_across_addresses(app, mailbox):
    client = _from(app, 1)
    answers = [ask_code(client, f"reader{n}@example.com").status_code for n in range(6)]
    assert answers == [303] * 5 + [429]
    assert "Please slow down" in ask_code(client, "other@example.com").text
    # Another client is not.
    assert ask_code(_from(app, 2), "reader9@example.com").status_code == 303


def test_wrong_codes_from_one_client_are_limited(app, mailbox):
    client = _from(app, 1)
    answers = []
    for n in range(2):
        ask_code(client, f"reader{n}@example.com")
        code, _, _ = sign_in_email(mailbox, f"reader{n}@example.com", count=n + 1)
        for _ in range(3):
            answers.append(client.post("/account/sign-in/code", data={"code": wrong(code)}))
    assert [a.status_code for a in answers] == [400] * 5 + [429]
