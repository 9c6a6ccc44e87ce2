"""``flask --app app shop reconcile``: catch up with Stripe when webhooks were lost."""

from datetime import timedelta

import click
import stripe
from sqlalchemy import select

from blueprints.core.outbox import send_committed
from blueprints.core.stripe import retrieve_checkout_session
from blueprints.core.types import utcnow
from blueprints.shop import bp, services
from blueprints.shop.models import Order, OrderState
from extensions import db


@bp.cli.command("reconcile")
@click.option("--older-than", default=35, show_default=True, help="Minutes since checkout.")
def reconcile(older_than):
    """Ask Stripe about pending orders whose checkout should have ended by now, and
    fulfil or expire them exactly as the webhook would (cron, every 15 minutes)."""
    cutoff = utcnow() - timedelta(minutes=older_than)
    ids = db.session.scalars(
        select(Order.id).where(
            Order.state == OrderState.PENDING,
            Order.stripe_session_id.is_not(None),
            Order.created_at < cutoff,
        )
    ).all()
    changed = 0
    for order_id in ids:
        order = db.session.get(Order, order_id)
        try:
            checkout = retrieve_checkout_session(order.stripe_session_id)
            if checkout["payment_status"] in ("paid", "no_payment_required"):
                services.fulfil_order(order.stripe_session_id)
            elif checkout["status"] == "expired":
                services.expire_order(checkout)
            db.session.commit()
        except stripe.StripeError as exc:
            db.session.rollback()
            click.echo(f"Order {order.reference}: Stripe error {exc}; will retry next run.")
            continue
        send_committed()
        db.session.refresh(order)
        if order.state != OrderState.PENDING:
            changed += 1
            click.echo(f"Order {order.reference}: {order.state.value}.")
    click.echo(f"Checked {len(ids)} pending order(s); {changed} changed.")
