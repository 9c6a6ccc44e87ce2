"""Migration a4c8e1f7d253 names the country of the addresses already stored in full
("Canada", not "CA", which reads as California), and nothing else; its downgrade puts the
codes back."""

from datetime import UTC, datetime

import sqlalchemy as sa

from tests.core.test_migrations import _run

BEFORE = "a4c7e19b2d58"
ORDER = sa.text(
    'INSERT INTO "order" (id, status, currency, total_cents, refunded_cents, shipping_cents,'
    " needs_shipping, needs_attention, shipping_address, created_at)"
    " VALUES (:id, 'paid', 'usd', 10900, 0, 0, true, false, :address, :now)"
)
ADDRESSES = {
    1: ("Ann Reader\n12 Danforth Ave\nToronto ON M4C 1B5\nCA", "Toronto ON M4C 1B5\nCanada"),
    2: ("Bea Reader\n1 Main St\nSyracuse NY 13202\nUS", "Syracuse NY 13202\nUnited States"),
    3: ("Cy Reader\n1 Main St\nCalgary AB T2P 1J9\nCanada", "Calgary AB T2P 1J9\nCanada"),
    4: ("Dee Reader\n9 CA Road\nLos Angeles CA 90001", "9 CA Road\nLos Angeles CA 90001"),
    5: (None, None),
}


def _addresses(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT id, shipping_address FROM "order" ORDER BY id'))
        return {row.id: row.shipping_address for row in rows}


def test_upgrade_names_the_country_of_stored_addresses_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = sa.create_engine(url)
    try:
        _run(url, "upgrade", BEFORE)
        with engine.begin() as conn:
            for order_id, (address, _tail) in ADDRESSES.items():
                conn.execute(ORDER, {"id": order_id, "address": address, "now": datetime.now(UTC)})
        _run(url, "upgrade")
        after = _addresses(engine)
        for order_id, (address, tail) in ADDRESSES.items():
            assert after[order_id] == address if tail is None else after[order_id].endswith(tail)
        assert after[4] == ADDRESSES[4][0]  # a state of CA inside the address stays
        _run(url, "downgrade", BEFORE)
        assert _addresses(engine) == {k: address for k, (address, _tail) in ADDRESSES.items()} | {
            3: "Cy Reader\n1 Main St\nCalgary AB T2P 1J9\nCA"
        }
    finally:
        engine.dispose()
