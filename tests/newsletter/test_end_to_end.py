"""The whole journey through a real SMTP server: sign up, confirm, receive, leave."""

import re
from datetime import timedelta

from blueprints.core.types import utcnow
from blueprints.newsletter.sending import send_weekly
from tests.conftest import html_part, text_part
from tests.newsletter.conftest import make_post


def test_signup_confirm_receive_one_click_unsubscribe_then_receive_nothing(app, client, mailbox):
    address = "margaret@example.com"
    assert (
        client.post("/newsletter/", data={"email": address, "first_name": "Margaret"}).status_code
        == 303
    )

    confirmation = mailbox.wait_for(1)[0]
    assert str(confirmation["To"]) == address
    assert "confirm" in confirmation["Subject"].lower()
    link = re.search(r"http://localhost(/newsletter/confirm/\S+)", text_part(confirmation)).group(1)
    assert link in html_part(confirmation)
    assert "Confirm my signup" in client.get(link).get_data(as_text=True)
    assert client.post(link, data={}).location == "/newsletter/welcome"
    welcome = mailbox.wait_for(2)[1]
    assert str(welcome["To"]) == address and "Welcome" in welcome["Subject"]

    make_post("Vitamin K2 and your bones", published_at=utcnow() - timedelta(hours=1))
    report = send_weekly()
    assert report.sent == 1 and report.finished
    issue = mailbox.wait_for(3)[2]
    assert str(issue["To"]) == address
    assert "Vitamin K2 and your bones" in issue["Subject"]
    assert "Dear Margaret," in text_part(issue)
    assert "Vitamin K2 and your bones" in html_part(issue)
    assert issue["Message-ID"]
    assert issue["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(issue["List-Unsubscribe"]).strip()
    url = re.fullmatch(r"<(http://localhost/newsletter/unsubscribe/[^>]+)>", header).group(1)

    # What a mail provider does for the one-click button: POST, no cookie, no CSRF token.
    provider = app.test_client()
    response = provider.post(
        url, data={"List-Unsubscribe": "One-Click"}, csrf=False, follow_redirects=False
    )
    assert response.status_code == 200
    assert "You have left the newsletter" in response.get_data(as_text=True)

    make_post("Magnesium, the forgotten mineral", published_at=utcnow())
    report = send_weekly()
    assert report.sent == 0 and report.finished
    assert len(mailbox.messages) == 3  # nothing new arrived
