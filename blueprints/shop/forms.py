"""Shop forms. Quantities are validated here and again by the services and the schema."""

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from blueprints.core.types import MAX_ID
from blueprints.shop.errors import QUANTITY_MESSAGE
from blueprints.shop.models import MAX_LINE_QUANTITY, ProductKind


def parse_dollars(text):
    """The cents in an amount typed in dollars ("25", "$1,234.50"), or None when it is
    not dollars and whole cents."""
    try:
        amount = Decimal((text or "").strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


class Dollars:
    """Validator: the field is an amount in dollars and cents (above zero if
    ``positive``)."""

    def __init__(self, message, positive=False):
        self.message = message
        self.positive = positive

    def __call__(self, form, field):
        cents = parse_dollars(field.data)
        if cents is None or (self.positive and cents <= 0):
            raise ValidationError(self.message)


class QuantityField(IntegerField):
    """A whole number from 1 to ``MAX_LINE_QUANTITY``, with one plain message for anything
    else."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(QUANTITY_MESSAGE) from exc


class AddToCartForm(FlaskForm):
    variant_id = IntegerField(
        "Choose an option",
        validators=[
            InputRequired("Please choose an option."),
            NumberRange(1, MAX_ID, "Please choose an option."),
        ],
    )
    quantity = QuantityField(
        "Quantity",
        default=1,
        validators=[
            InputRequired(QUANTITY_MESSAGE),
            NumberRange(1, MAX_LINE_QUANTITY, QUANTITY_MESSAGE),
        ],
    )


class CartLineForm(FlaskForm):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    quantity = QuantityField(
        "Quantity",
        validators=[
            InputRequired(QUANTITY_MESSAGE),
            NumberRange(1, MAX_LINE_QUANTITY, QUANTITY_MESSAGE),
        ],
    )


class RemoveLineForm(FlaskForm):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])


class CheckoutForm(FlaskForm):
    """Only the CSRF token: everything else comes from the cart in the database."""


class ShipForm(FlaskForm):
    tracking_number = StringField(
        "Tracking number",
        validators=[DataRequired("Enter the tracking number."), Length(max=100)],
    )


class RefundForm(FlaskForm):
    amount = StringField(
        "Amount to refund, in dollars",
        validators=[
            DataRequired("Enter an amount."),
            # Only the form here: whether the amount can be refunded is the order's rule.
            Dollars("Enter an amount in dollars and cents, like 25.00."),
        ],
    )
    request_key = HiddenField(validators=[DataRequired(), Length(max=64)])

    @property
    def amount_cents(self):
        return parse_dollars(self.amount.data)


# --- staff forms ---


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=200)])
    slug = StringField(
        "Web address",
        description="Lower-case letters, numbers and dashes: /shop/<this>.",
        validators=[
            DataRequired("Enter a web address."),
            Length(max=200),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case letters, numbers and dashes."
            ),
        ],
    )
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice(ProductKind.PROGRAM.value, "Program (digital)"),
            SelectChoice(ProductKind.PHYSICAL.value, "Physical (shipped)"),
        ],
        coerce=ProductKind,
    )
    summary = StringField("Summary", validators=[Length(max=500)])
    description_md = TextAreaField("Description (Markdown)", validators=[Length(max=20000)])
    image_path = StringField("Image (path under static/)", validators=[Optional(), Length(max=200)])
    image_alt = StringField("Image description (alt text)", validators=[Length(max=300)])
    active = BooleanField("For sale")
    position = IntegerField(
        "Order in the shop", default=0, validators=[InputRequired(), NumberRange(0, 10000)]
    )

    def product_fields(self):
        """The product's columns as entered."""
        return {name: value for name, value in self.data.items() if name != "csrf_token"}


class VariantForm(FlaskForm):
    sku = StringField("SKU", validators=[DataRequired("Enter a SKU."), Length(max=64)])
    name = StringField("Option name", validators=[DataRequired("Enter a name."), Length(max=120)])
    price = StringField(
        "Price in dollars",
        validators=[
            DataRequired("Enter a price."),
            Dollars("Enter a price above zero, like 109.00.", positive=True),
        ],
    )
    stock = IntegerField(
        "Stock",
        description="Leave empty for unlimited (programs).",
        validators=[Optional(), NumberRange(min=0, message="Stock cannot be below zero.")],
    )
    active = BooleanField("For sale", default=True)

    def variant_fields(self):
        """The variant's columns as entered (stock empty: unlimited)."""
        return {
            "sku": self.sku.data.strip(),
            "name": self.name.data.strip(),
            "price_cents": parse_dollars(self.price.data),
            "stock": self.stock.data,
            "active": self.active.data,
        }


class ProgramsLinkForm(FlaskForm):
    """Ask for the link to every program of an address (sent to that address)."""

    email = EmailField(
        "Email address",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired("Please enter the email address you bought with."),
            Length(max=254, message="Please enter a shorter email address."),
            Email(
                "Please check your email address: it should look like name@example.com.",
                check_deliverability=False,
            ),
        ],
    )


class ReleaseCheckoutForm(FlaskForm):
    """Only the CSRF token: the order comes from Stripe's return link, checked against
    the visitor's cart."""
