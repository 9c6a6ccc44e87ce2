"""The account's absolute links (in emails), built on ``SITE_URL``."""

from blueprints.core.links import external_url


def sign_in_link_url(link_token):
    """The emailed sign-in link: it opens a page with one button (a mail scanner that
    fetches it signs nobody in)."""
    return external_url("account.sign_in_link", token=link_token)


def sign_in_page_url():
    """The customers' sign-in page, where she asks for a code herself."""
    return external_url("account.sign_in")
