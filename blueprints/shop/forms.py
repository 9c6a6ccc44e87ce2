"""Shop forms. Quantities are read here as whole numbers; their range is the option's,
checked by the cart (``shop/cart.py``) and again by the schema."""

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

from blueprints.core.forms import DayRangeForm, Dollars, Form, parse_dollars
from blueprints.core.types import MAX_ID, parse_id
from blueprints.shop.models import SHIPPING_COUNTRIES, ProductKind

CHOOSE_SIZE = "Please choose a size."
# The most stock staff can enter for one option: well inside an INTEGER column.
MAX_STOCK = 1_000_000


class QuantityField(IntegerField):
    """A whole number, or None for anything else (empty, "2.5", "abc"). Its range is the
    option's (``shop/cart.py`` ``max_quantity``), known once the option is: the cart
    refuses any other quantity with the one message that names it."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class AddToCartForm(Form):
    """One option of a product: its id (the page's one choice, without script), or the
    product with a size and a weight (the two choices ``static/js/options.js`` shows)."""

    product_id = IntegerField(validators=[Optional(), NumberRange(1, MAX_ID)])
    variant_id = IntegerField(
        "Choose an option",
        validators=[Optional(), NumberRange(1, MAX_ID, "Please choose an option.")],
    )
    size = StringField("Size", validators=[Optional(), Length(max=8, message=CHOOSE_SIZE)])
    weight = IntegerField(
        "Added weight",
        validators=[Optional(), NumberRange(1, 1000, "Please choose an added weight.")],
    )
    quantity = QuantityField("Quantity")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.variant_id.data is None and not self.variant_id.errors:
            if not (self.size.data or "").strip():
                self.size.errors = [*self.size.errors, CHOOSE_SIZE]
                valid = False
            if self.weight.data is None and not self.weight.errors:
                self.weight.errors = [*self.weight.errors, "Please choose an added weight."]
                valid = False
        return valid

    def refuse_quantity(self, message):
        """Show the cart's refusal of the quantity (``QuantityRefused``) on its field."""
        self.quantity.errors = [*self.quantity.errors, message]


class ProgramCartForm(AddToCartForm):
    """A program is bought once: the page has no quantity (1), and the cart refuses any
    other."""

    quantity = QuantityField("Quantity", default=1)


class CartLineForm(Form):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])
    quantity = QuantityField("Quantity")


class RemoveLineForm(Form):
    line_id = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_ID)])


class CheckoutForm(Form):
    """Only the CSRF token: everything else comes from the cart in the database."""


class ShipToForm(Form):
    """The cart's "Ship to": the service checks the country against the rates on sale."""

    country = StringField("Ship to")


class ShipForm(Form):
    tracking_number = StringField(
        "Tracking number",
        validators=[DataRequired("Enter the tracking number."), Length(max=100)],
    )


class TrackingForm(ShipForm):
    """A shipped order's tracking number, corrected by staff; she is emailed again only
    when they tick the box."""

    email_customer = BooleanField("Email her the corrected number")


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
    image_path = StringField(
        "Picture without a gallery (path under static/)",
        description="Shown only while the gallery below has no picture.",
        validators=[Optional(), Length(max=200)],
    )
    image_alt = StringField("That picture's description (alt text)", validators=[Length(max=300)])
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


class GalleryAddForm(Form):
    """Put one of the media library's images in a product's gallery (the choices are
    set by the view: ``with_choices``)."""

    image = SelectField("Picture to add", choices=[], coerce=str)

    def with_choices(self, choices):
        self.image.choices = [SelectChoice(str(image_id), label) for image_id, label in choices]
        return self

    @property
    def image_id(self):
        return parse_id(self.image.data or "")


class GalleryMoveForm(Form):
    """Move one picture of a gallery a place earlier or later."""

    direction = SelectField(choices=[SelectChoice("up", "Earlier"), SelectChoice("down", "Later")])

    @property
    def step(self):
        return -1 if self.direction.data == "up" else 1


class GalleryRemoveForm(Form):
    """Only the CSRF token: the picture is named by the address."""


# The most one shipping rate may cost, in dollars (a typo of 1200 for 12.00 is refused).
MAX_SHIPPING_DOLLARS = 500
MAX_DELIVERY_DAYS = 90


def _days(label):
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(
                1,
                MAX_DELIVERY_DAYS,
                f"Give a whole number of business days from 1 to {MAX_DELIVERY_DAYS}, "
                "or leave it empty.",
            ),
        ],
    )


class ShippingRateForm(Form):
    country = SelectField(
        "Country",
        choices=[SelectChoice(code, name) for code, name in SHIPPING_COUNTRIES.items()],
        validate_choice=True,
    )
    name = StringField(
        "Name",
        description='As customers see it, before the delivery time, e.g. "Standard".',
        validators=[DataRequired("Enter a name."), Length(max=100)],
    )
    min_days = _days("Fewest business days to arrive")
    max_days = _days("Most business days to arrive")
    amount = StringField(
        "Price in dollars",
        description="0.00 ships free.",
        validators=[
            DataRequired("Enter a price, like 12.00 (0.00 ships free)."),
            Dollars(
                "Enter a price in dollars and cents, like 12.00 (0.00 ships free).",
                maximum=MAX_SHIPPING_DOLLARS,
            ),
        ],
    )
    position = IntegerField(
        "Order at checkout",
        description="The lowest number is offered first, and shown in the cart's total.",
        default=0,
        validators=[
            InputRequired("Enter a number."),
            NumberRange(0, 10000, "Enter a whole number from 0 to 10,000."),
        ],
    )
    active = BooleanField("Offered at checkout", default=True)

    def validate_max_days(self, field):
        if field.data and self.min_days.data and field.data < self.min_days.data:
            raise ValidationError("The most days must be at least the fewest.")

    def rate_fields(self):
        """The rate's columns as entered."""
        return {
            "country": self.country.data,
            "name": self.name.data.strip(),
            "min_days": self.min_days.data,
            "max_days": self.max_days.data,
            "amount_cents": parse_dollars(self.amount.data),
            "position": self.position.data,
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


class OrderSearchForm(DayRangeForm):
    """Staff's order search (a GET form: it changes nothing, so no CSRF token): words
    (a number, an email or a name) and a range of days in Dr. Brown's zone."""

    q = StringField(
        "Order number, email or name",
        validators=[Optional(), Length(max=200, message="Please type at most 200 characters.")],
    )
