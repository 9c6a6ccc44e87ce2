"""Customer accounts: a customer, and a client signed in as her (the session set the way
account/customers.py sets it; tests/account/test_sign_in.py covers the real sign-in)."""

import pytest

from blueprints.account.customers import SESSION_KEY, customer_for_email
from extensions import db


def sign_in_customer(client, email):
    """Sign ``client`` in as the customer of ``email`` (made when new); the customer."""
    customer = customer_for_email(email)
    db.session.commit()
    with client.session_transaction() as session:
        session[SESSION_KEY] = f"{customer.id}:{customer.session_token}"
    return customer


@pytest.fixture
def customer(app):
    customer = customer_for_email("reader@example.com")
    db.session.commit()
    return customer


@pytest.fixture
def customer_client(client, customer):
    sign_in_customer(client, customer.email)
    return client
