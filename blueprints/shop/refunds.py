"""Refunds: staff refund through Stripe, and every refund Stripe reports (ours or made
on its dashboard) is recorded once, moving the order to (partially) refunded."""

import stripe
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.account.roles import check_refund
from blueprints.core.audit import record_staff_action
from blueprints.core.layout import format_money
from blueprints.core.states import StatusRefused, claim_status
from blueprints.core.stripe import create_refund, refunds_of
from blueprints.core.types import utcnow
from blueprints.shop.emails import send_refunded
from blueprints.shop.errors import ShopError
from blueprints.shop.events import record_event
from blueprints.shop.fulfilment import fulfil_order, stripe_value
from blueprints.shop.models import (
    REFUNDABLE_STATUSES,
    Order,
    OrderEventKind,
    OrderStatus,
    ProgramAccess,
    Refund,
)
from extensions import db


def record_refund(order, refund_id, amount_cents, currency, actor="stripe"):
    """Record one Stripe refund once (its id is unique), update the order and email her.

    Every refund comes through here once (staff's, and those Stripe reports, e.g. made
    on its dashboard), so she gets one email per refund whoever made it."""
    if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund_id)):
        return False
    try:
        with db.session.begin_nested():
            db.session.add(
                Refund(
                    order_id=order.id,
                    stripe_refund_id=refund_id,
                    amount_cents=amount_cents,
                    currency=currency,
                )
            )
    except IntegrityError:
        return False  # recorded at the same moment by another request
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(Refund.order_id == order.id)
    )
    full = refunded >= order.total_cents
    target = OrderStatus.REFUNDED if full else OrderStatus.PARTIALLY_REFUNDED
    claim_status(order, target, refunded_cents=refunded)
    order.refunded_cents = refunded
    record_event(
        order,
        OrderEventKind.REFUNDED,
        f"Refund {refund_id}: {format_money(amount_cents, currency)} "
        f"({format_money(refunded, order.currency)} refunded in all).",
        actor,
    )
    access_ended = False
    if full:
        revoked = db.session.execute(
            update(ProgramAccess)
            .where(ProgramAccess.order_id == order.id, ProgramAccess.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if revoked.rowcount:
            access_ended = True
            record_event(
                order, OrderEventKind.ACCESS_REVOKED, "Full refund: program access ended.", actor
            )
    if order.email:
        send_refunded(order, amount_cents, currency, access_ended)
    db.session.flush()
    return True


def apply_charge_refunded(charge):
    """``charge.refunded``: record, once each, the refunds Stripe has for the order.

    The event only says which order to look at again. Its body (amounts, the refunds
    it lists) is never acted on: a forged or replayed one must not end anyone's access.
    What counts is what Stripe answers for the order's own payment intent.
    """
    order_id = stripe_value(stripe_value(charge, "metadata", {}), "id")
    order = db.session.get(Order, int(order_id)) if str(order_id).isdigit() else None
    if order is None:
        raise LookupError(f"no order for refunded charge {charge['id']}")
    if order.status == OrderStatus.PENDING and order.stripe_session_id:
        fulfil_order(order.stripe_session_id)  # the refund overtook the payment event
    payment_intent = order.stripe_payment_intent_id
    if payment_intent is None:
        return order  # never paid: Stripe can have no refund of it
    for refund in refunds_of(payment_intent):
        record_refund(order, refund["id"], refund["amount"], refund["currency"])
    return order


def _claim_for_refund(order):
    """Make this request the one refunding ``order`` now, before Stripe is asked.

    One conditional UPDATE (it writes nothing new) that matches only while the order is
    refundable and nobody has refunded any of it since this request read it; it holds
    the row until this request commits. Two staff refunding at once: the first goes on,
    the other waits, then is refused, so Stripe is asked once.
    """
    claimed = db.session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status.in_(REFUNDABLE_STATUSES),
            Order.refunded_cents == order.refunded_cents,
        )
        .values(refunded_cents=Order.refunded_cents)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.refresh(order)
        raise StatusRefused(
            f"Order {order.reference} was refunded by someone else just now. "
            "Please check it before refunding again."
        )


def check_refund_order(order, amount_cents, actor):
    """Raise what :func:`refund_order` would refuse before asking Stripe (the order is
    not paid, the amount is out of range, ``actor``'s role does not allow it), so staff
    are told before they are asked to confirm. Changes nothing."""
    if order.stripe_payment_intent_id is None or order.status not in REFUNDABLE_STATUSES:
        raise ShopError("Only a paid order can be refunded.")
    if not 0 < amount_cents <= order.refundable_cents:
        raise ShopError(
            f"Enter an amount from $0.01 to {format_money(order.refundable_cents, order.currency)}."
        )
    check_refund(actor, amount_cents, order.refunded_cents, order.currency)


def refund_ends_access(order, amount_cents):
    """Whether refunding ``amount_cents`` of ``order`` refunds the rest of it and so ends
    the access to its programs that she still has (for the staff's confirmation)."""
    if amount_cents < order.refundable_cents:
        return False
    return bool(
        db.session.scalar(
            select(ProgramAccess.id)
            .where(ProgramAccess.order_id == order.id, ProgramAccess.revoked_at.is_(None))
            .limit(1)
        )
    )


def refund_order(order, amount_cents, request_key, actor):
    """Refund part or all of a paid order through Stripe (staff action by ``actor``, the
    staff account: an assistant only up to her limit, ``account/roles.py``).

    ``request_key`` comes from the form that was shown, so a double submit makes one
    refund; the order is claimed first, so two staff at once make one.
    Raises :class:`ShopError` (or :class:`StatusRefused`) with a message for staff, and
    :class:`NotAllowed` (403) when ``actor``'s role does not allow the amount.
    """
    check_refund_order(order, amount_cents, actor)
    _claim_for_refund(order)
    try:
        refund = create_refund(
            order.stripe_payment_intent_id,
            amount_cents,
            idempotency_key=f"order-{order.id}-refund-{request_key}",
            metadata={"kind": "order", "id": str(order.id)},
        )
    except stripe.StripeError as exc:
        raise ShopError(f"Stripe refused the refund: {exc.user_message or exc}") from exc
    if db.session.scalar(select(Refund.id).where(Refund.stripe_refund_id == refund.id)):
        # The same form sent twice: Stripe answered with the refund it made the first
        # time (same key), which is recorded and audited already.
        return refund
    record_event(
        order,
        OrderEventKind.REFUND_REQUESTED,
        f"Refund of {format_money(amount_cents, order.currency)} sent to Stripe ({refund.id}).",
        actor.email,
    )
    record_refund(order, refund.id, refund.amount, refund.currency, actor=actor.email)
    record_staff_action(
        actor.id,
        "order.refund",
        "order",
        order.id,
        {"amount_cents": refund.amount, "currency": refund.currency, "refund": refund.id},
    )
    return refund
