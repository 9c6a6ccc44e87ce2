"""What ``/account/`` shows a signed-in customer: everything the site holds under her
verified address, asked of each area's own services (shop, booking, newsletter, blog).

Every lookup here is by her address and nothing else: no id from the request reaches a
query without her address beside it, so no URL shows one customer anything of another.
The areas know nothing of accounts; this module only reads from them, and changes the
newsletter through the newsletter's own functions (double opt-in kept).
"""

from dataclasses import dataclass

from blueprints.blog.commenters import comments_by_email
from blueprints.blog.forms import MAX_NAME
from blueprints.booking import emails as booking_emails
from blueprints.booking import links as booking_links
from blueprints.booking import meetings, policy
from blueprints.booking import services as booking_services
from blueprints.booking.models import Booking, BookingStatus
from blueprints.core.errors import UserError
from blueprints.core.timezones import format_when
from blueprints.core.types import utcnow
from blueprints.my_account import progress
from blueprints.newsletter.models import Subscriber, SubscriberStatus
from blueprints.newsletter.subscriptions import (
    pause_subscription,
    request_subscription,
    resume_subscription,
    subscriber_for_email,
    unsubscribe,
)
from blueprints.shop.orders import order_for_email, orders_for_email


class NewsletterChangeRefused(UserError):
    status = 409
    default_message = (
        "Your newsletter settings changed in the meantime. Please look at them again below."
    )


@dataclass
class Consultation:
    """One of her bookings as her account lists it: the manage link's token, so moving
    and cancelling go through the very pages (and policy) the emailed link opens."""

    booking: Booking
    token: str
    can_move: bool
    can_cancel: bool
    when: str  # in the zone she booked in, with Dr. Brown's time beside it
    deadline: str  # the last moment to move or cancel with a refund, the same way
    how: str
    # The video room she joins by, shown as a link inside ``how`` (None: a phone call,
    # or no room yet).
    video_url: str | None = None

    @property
    def how_around_link(self):
        """``how`` as (text before the room's address, text after it), or None when
        ``how`` holds no address to make a link of."""
        if not self.video_url or self.video_url not in self.how:
            return None
        before, _, after = self.how.partition(self.video_url)
        return before, after


@dataclass
class NewsletterState:
    """``subscribed``, ``paused``, ``pending`` (waiting for her to confirm by email) or
    ``not_subscribed``, and the buttons that state offers."""

    state: str
    subscriber: Subscriber | None = None

    @property
    def actions(self):
        return {
            "subscribed": ("pause", "unsubscribe"),
            "paused": ("resume", "unsubscribe"),
            "pending": ("subscribe",),
            "not_subscribed": ("subscribe",),
        }[self.state]

    @property
    def paused_until(self):
        return self.subscriber.paused_until if self.subscriber else None


@dataclass
class Overview:
    orders: list
    programs: list
    upcoming: list
    past: list
    cancelled: list  # cancelled ones whose time has not come yet
    newsletter: NewsletterState
    comments: list


def newsletter_state(email, now=None):
    subscriber = subscriber_for_email(email)
    if subscriber is None:
        return NewsletterState("not_subscribed")
    if subscriber.status == SubscriberStatus.CONFIRMED:
        state = "paused" if subscriber.is_paused(now) else "subscribed"
    elif subscriber.status == SubscriberStatus.PENDING:
        state = "pending"
    else:  # left, or the address bounced
        state = "not_subscribed"
    return NewsletterState(state, subscriber)


def consultations(email, now=None):
    """Her consultations as ``(upcoming, cancelled, past)``: upcoming (confirmed and not
    over yet) and cancelled (whose time has not come yet) soonest first, past (over,
    whatever became of them) latest first. A cancelled consultation is not "earlier"
    while its time is still ahead, so it is listed on its own."""
    now = now or utcnow()
    upcoming, cancelled, past = [], [], []
    find_link = meetings.link_finder()  # the usual room read once for all of them
    for booking in booking_services.bookings_for_email(email):
        live = booking.status == BookingStatus.CONFIRMED and booking.ends_at > now
        item = Consultation(
            booking=booking,
            token=booking_links.manage_token(booking),
            can_move=live and policy.can_change_free(booking, now),
            can_cancel=live,
            when=format_when(booking.starts_at, booking.client_timezone),
            deadline=format_when(policy.change_deadline(booking), booking.client_timezone),
            how=booking_emails.how_the_call_happens(booking, find_link),
            video_url=find_link(booking),  # None for a phone call
        )
        if live:
            upcoming.append(item)
        elif booking.status == BookingStatus.CANCELLED and booking.ends_at > now:
            cancelled.append(item)
        else:
            past.append(item)
    past.reverse()
    return upcoming, cancelled, past


def name_on_record(email):
    """The name she gave with her latest order or booking of ``email`` (bought or
    confirmed ones only), or "" when she has none; at most the comment form's
    ``MAX_NAME`` characters, so the forms that show it accept it as it is."""
    named = [(o.created_at, o.customer_name) for o in orders_for_email(email)]
    named += [(b.created_at, b.name) for b in booking_services.bookings_for_email(email)]
    named = [(at, name.strip()) for at, name in named if name and name.strip()]
    return max(named, key=lambda pair: pair[0])[1][:MAX_NAME].strip() if named else ""


def account_overview(customer, now=None):
    """Everything ``/account/`` lists for ``customer`` (a handful of queries)."""
    now = now or utcnow()
    upcoming, cancelled, past = consultations(customer.email, now)
    return Overview(
        orders=orders_for_email(customer.email),
        programs=progress.programs_of(customer),
        upcoming=upcoming,
        past=past,
        cancelled=cancelled,
        newsletter=newsletter_state(customer.email, now),
        comments=comments_by_email(customer.email),
    )


def customer_order(customer, order_id):
    """Her order ``order_id``, or None (also when it is someone else's)."""
    return order_for_email(customer.email, order_id)


def change_newsletter(customer, action):
    """Apply one of the newsletter buttons; returns what to tell her.

    Subscribing goes through the public signup's own function: a confirmation email, and
    nothing is sent to her until she clicks its link (double opt-in), even signed in.
    A button for a state she is no longer in (another tab, the email's link) is refused
    with ``NewsletterChangeRefused``. Flushes.
    """
    current = newsletter_state(customer.email)
    if action not in current.actions:
        raise NewsletterChangeRefused()
    if action == "subscribe":
        sent_before = current.subscriber.confirm_sent_at if current.subscriber else None
        subscriber = request_subscription(customer.email, (customer.name or "").split(" ")[0])
        if subscriber.confirm_sent_at == sent_before:  # one signup email a day at most
            return (
                f"We sent you an email at {customer.email} within the last day. Please open "
                "it and click the link to start your newsletter."
            )
        return (
            f"We have sent an email to {customer.email}. Please open it and click the link "
            "to start your newsletter."
        )
    subscriber = current.subscriber
    if action == "pause":
        pause_subscription(subscriber)
        return "Your newsletter is paused. It starts again by itself after the pause."
    if action == "resume":
        resume_subscription(subscriber)
        return "Your newsletter is on again: the next issue comes to you."
    unsubscribe(subscriber)
    return "You are off the newsletter list. We will not send it to you any more."
