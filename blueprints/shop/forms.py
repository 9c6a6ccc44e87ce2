"""Shop forms. Quantities are validated here and again by the services and the schema."""

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
)

from blueprints.core.forms import Dollars, Form, parse_dollars
from blueprints.core.types import MAX_ID
from blueprints.shop.errors import QUANTITY_MESSAGE
from blueprints.shop.models import MAX_LINE_QUANTITY, ProductKind

# The most stock staff can enter for one option: well inside an INTEGER column.
MAX_STOCK = 1_000_000


class QuantityField(IntegerField):
    """A whole number from 1 to ``MAX_LINE_QUANTITY``, with one plain message for anything
    else."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(QUANTITY_MESSAGE) from exc


class AddToCartForm(Form):
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


class CartLineForm(Form):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    quantity = QuantityField(
        "Quantity",
        validators=[
            InputRequired(QUANTITY_MESSAGE),
            NumberRange(1, MAX_LINE_QUANTITY, QUANTITY_MESSAGE),
        ],
    )


class RemoveLineForm(Form):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])


class CheckoutForm(Form):
    """Only the CSRF token: everything else comes from the cart in the database."""


class ShipForm(Form):
    tracking_number = StringField(
        "Tracking number",
        validators=[DataRequired("Enter the tracking number."), Length(max=100)],
    )


class RefundForm(Form):
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


class ProductForm(Form):
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


class VariantForm(Form):
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
        validators=[
            Optional(),
            NumberRange(0, MAX_STOCK, f"Stock must be a whole number from 0 to {MAX_STOCK:,}."),
        ],
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


class ProgramsLinkForm(Form):
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


class ReleaseCheckoutForm(Form):
    """Only the CSRF token: the order comes from Stripe's return link, checked against
    the visitor's cart."""
