"""The staff area's absolute links that leave the site in an email."""

from blueprints.core.links import external_url


def invitation_url(token):
    """The emailed link where an invited staff member sets her password."""
    return external_url("admin.accept_invitation", token=token)


def staff_sign_in_url():
    return external_url("admin.login")
