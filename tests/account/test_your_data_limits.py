"""The code that opens her data is asked for a few times an hour at most, per account
(with the limiter on, as in production)."""

from sqlalchemy import func, select

from blueprints.account.models import AccountCode
from extensions import db


def test_a_sixth_code_within_the_hour_is_refused(customer_client, mailbox):
    for _ in range(5):
        assert customer_client.post("/account/data/code", data={}).status_code == 303
    refused = customer_client.post("/account/data/code", data={})
    assert refused.status_code == 429
    assert db.session.scalar(select(func.count()).select_from(AccountCode)) == 5
