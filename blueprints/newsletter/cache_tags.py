"""The page-cache tags of newsletter pages, built here only, so that a page and the code
that clears it can never spell a tag two ways."""

SIGNUP = "newsletter"


def signup_page():
    """Tags of the signup page (it shows no data, so nothing clears it yet)."""
    return [SIGNUP]
