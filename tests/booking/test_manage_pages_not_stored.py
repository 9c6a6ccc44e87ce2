"""A booking's manage pages, opened by its private link, are never stored by a
browser or a proxy (issue 17, finding 10)."""

from datetime import timedelta

from blueprints.booking import links
from blueprints.core.types import utcnow
from tests.booking.conftest import free, make_confirmed


def test_manage_cancel_and_reschedule_pages_are_never_stored(client, types):
    ctype = types["initial"]
    slot = next(s for s in free(ctype) if s > utcnow() + timedelta(days=5))
    token = links.manage_token(make_confirmed(ctype, slot))
    for path in ("", "/cancel", "/reschedule"):
        response = client.get(f"/consultations/manage/{token}{path}")
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
