"""Forms of staff's customer pages (``admin/customer_views.py``): the directory search and
emailing her a sign-in code."""

from wtforms import HiddenField, SearchField
from wtforms.validators import DataRequired, Email, Length, Optional

from blueprints.core.forms import Form
from blueprints.my_account.directory import MAX_SEARCH_LENGTH


class CustomerSearchForm(Form):
    """Search customers by email or name (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField(
        "Email or name",
        validators=[
            Optional(),
            Length(
                max=MAX_SEARCH_LENGTH,
                message=f"Please type at most {MAX_SEARCH_LENGTH} characters.",
            ),
        ],
    )


class SignInLinkForm(Form):
    """Email a customer a sign-in code (the address is the page's, in a hidden field)."""

    email = HiddenField(
        validators=[
            DataRequired("This page has no address to send to. Please open it again."),
            Length(max=254),
            Email("This address cannot receive email.", check_deliverability=False),
        ]
    )
