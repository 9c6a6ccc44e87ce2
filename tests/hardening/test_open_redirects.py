"""Every ``next=`` outside the sign-in page stays on the site too (the sign-in page's own
list is in tests/admin/test_sign_in.py)."""

from urllib.parse import urlsplit

import pytest

OFF_SITE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "https:/evil.example",
    "///evil.example",
    "\\\\evil.example",
    " //evil.example",
    "/\t/evil.example",  # browsers drop tabs: this would read as //evil.example
    "/\r\n/evil.example",
]


def _stays_on_site(response):
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost"), location
    assert parts.scheme in ("", "http"), location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "evil" not in location


@pytest.mark.parametrize("next_value", OFF_SITE)
@pytest.mark.parametrize("where", ["form", "query"])
def test_zone_selector_next_stays_on_site(client, next_value, where):
    data = {"tz": "Europe/London"}
    kwargs = {"data": data}
    if where == "form":
        data["next"] = next_value
    else:
        kwargs["query_string"] = {"next": next_value}
    response = client.post("/consultations/timezone", **kwargs)
    assert response.status_code == 303
    _stays_on_site(response)
    assert response.headers["Location"].endswith("/consultations/")


def test_zone_selector_next_on_site_is_honoured(client):
    response = client.post(
        "/consultations/timezone", data={"tz": "Europe/London", "next": "/consultations/x/"}
    )
    assert response.headers["Location"].endswith("/consultations/x/")


@pytest.mark.parametrize("next_value", OFF_SITE)
@pytest.mark.parametrize("action", ["publish", "unpublish"])
def test_staff_publish_next_stays_on_site(client, auth, seeded, next_value, action):
    auth.login()
    response = client.post(f"/admin/posts/{seeded['post_id']}/{action}", data={"next": next_value})
    assert response.status_code == 303
    _stays_on_site(response)
    assert f"/admin/posts/{seeded['post_id']}/edit" in response.headers["Location"]
