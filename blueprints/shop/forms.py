"""Shop forms. Quantities are validated here and again by the services and the schema."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from blueprints.shop.models import MAX_LINE_QUANTITY

QUANTITY_MESSAGE = f"Please choose a quantity from 1 to {MAX_LINE_QUANTITY}."


class QuantityField(IntegerField):
    """A whole number from 1 to 10, with one plain message for anything else."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(QUANTITY_MESSAGE) from exc


class AddToCartForm(FlaskForm):
    variant_id = IntegerField(
        "Choose an option", validators=[InputRequired("Please choose an option.")]
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
    line_id = IntegerField(validators=[InputRequired()])
    quantity = QuantityField(
        "Quantity",
        validators=[
            InputRequired(QUANTITY_MESSAGE),
            NumberRange(1, MAX_LINE_QUANTITY, QUANTITY_MESSAGE),
        ],
    )


class RemoveLineForm(FlaskForm):
    line_id = IntegerField(validators=[InputRequired()])


class CheckoutForm(FlaskForm):
    """Only the CSRF token: everything else comes from the cart in the database."""


class ShipForm(FlaskForm):
    tracking_number = StringField(
        "Tracking number",
        validators=[DataRequired("Enter the tracking number."), Length(max=100)],
    )


class RefundForm(FlaskForm):
    amount = StringField(
        "Amount to refund, in dollars", validators=[DataRequired("Enter an amount.")]
    )
    request_key = HiddenField(validators=[DataRequired(), Length(max=64)])
