"""Booking's refusals: each is a :class:`UserError`, so its message is shown to the
person and its status is the page's (a view may catch one to re-render its form)."""

from blueprints.booking.models import BookingStatus
from blueprints.core.errors import UserError
from blueprints.core.states import StatusRefused


class BookingError(UserError):
    """A booking refusal with a message for the person."""


class SlotNotOffered(BookingError):
    status = 422
    default_message = "That time is not available. Please choose one of the times shown."


class SlotTaken(BookingError):
    status = 409
    default_message = "Sorry, someone booked that time a moment ago. Please choose another time."


class AlreadyHeld(BookingError):
    """The time is held by her own browser, by a press of the button a moment ago whose
    payment page is still being made."""

    status = 409
    default_message = (
        "We are already holding this time for you. Please wait a moment, then press "
        "Continue to payment again."
    )


class ChangeRefused(BookingError):
    """The policy does not allow this change now (too late to move, too early to mark
    as done). A lost race is core's StatusRefused instead."""

    status = 409


class TooManyHolds(BookingError):
    """This visitor already holds as many unpaid times as one may."""

    status = 429


class PaymentUnavailable(BookingError):
    status = 503
    default_message = (
        "We could not start the payment just now, so your time was not held. "
        "Please try again in a few minutes."
    )


class LinkExpired(BookingError):
    status = 410
    default_message = (
        "This link has expired. Please use the link in your most recent email from us, "
        "or reply to it and we will help."
    )


class LinkInvalid(BookingError):
    status = 400
    default_message = (
        "This link is not complete or has been changed. Please open it again from your email."
    )


# What a booking is now, said to the person whose change lost to an earlier one.
_NOW = {
    BookingStatus.CONFIRMED: "This consultation is already confirmed.",
    BookingStatus.CANCELLED: "This consultation was already cancelled.",
    BookingStatus.COMPLETED: "This consultation was already marked as done.",
    BookingStatus.NO_SHOW: "This consultation was already marked as missed.",
    BookingStatus.EXPIRED: "This time was not paid for in time, so it has been let go.",
    BookingStatus.RELEASED: "This time has already been let go.",
}


def refused(booking):
    """The StatusRefused (409) for a change that ``booking`` (just refreshed) no longer
    allows, saying what it is now."""
    return StatusRefused(_NOW.get(booking.status))
