"""The dashboard's panels for revenue, the shop, consultations and the newsletter (the blog's is
in ``routes.py``). Each figure comes from its area's report functions and links to the
list it counts."""

from datetime import timedelta

from flask import current_app, url_for

from blueprints.admin.dashboard import Panel, PanelLink, dashboard_panel, periods
from blueprints.booking import reports as booking_reports
from blueprints.booking import services as booking_services
from blueprints.core.layout import format_money
from blueprints.core.reports import add_by_period
from blueprints.core.timezones import practitioner_zone
from blueprints.newsletter import reports as newsletter_reports
from blueprints.shop import reports as shop_reports


def signed_money(cents, currency):
    """``$120.00``, or ``−$50.00`` when more was given back than taken."""
    text = format_money(abs(cents), currency)
    return f"−{text}" if cents < 0 else text


def money_figure(amounts):
    """``{currency: cents}`` written out, e.g. ``$120.00`` or ``$120.00 + £30.00``."""
    shown = [(currency, cents) for currency, cents in sorted(amounts.items()) if cents]
    if not shown:
        return format_money(0, current_app.config["CURRENCY"])
    return " + ".join(signed_money(cents, currency) for currency, cents in shown)


@dashboard_panel(order=5)
def revenue_panel():
    """Money taken net of refunds, from the shop and from consultation fees: each area
    counts its own (three queries), the dashboard adds them up."""
    span = periods()
    spans = [(span.today_start, span.today_end), (span.month_start, span.month_end)]
    shop = shop_reports.net_sales(spans)
    fees = booking_reports.net_fees(spans)
    total = add_by_period(shop, fees)
    # Each figure links to the payments and refunds it counts, by the same days: the
    # orders paid or refunded (the list's "by=payment"), the consultation fees.
    zone = practitioner_zone()
    days = [(start.astimezone(zone).date(), end.astimezone(zone).date()) for start, end in spans]
    links = []
    for index, when in enumerate(("today", "this month")):
        first, after = days[index]
        first_day, last_day = first.isoformat(), (after - timedelta(days=1)).isoformat()
        orders = url_for(
            "admin.orders", state="all", by="payment", first_day=first_day, last_day=last_day
        )
        payments = url_for("admin.schedule_payments", first_day=first_day, last_day=last_day)
        parts = (
            PanelLink(f"from the shop {when}", money_figure(shop[index]), orders),
            PanelLink(f"from consultations {when}", money_figure(fees[index]), payments),
        )
        links.append(
            PanelLink(f"Revenue {when}, after refunds", money_figure(total[index]), None, parts)
        )
    return Panel(title="Revenue", links=links)


@dashboard_panel(order=20)
def shop_panel():
    return Panel(
        title="Shop",
        links=[
            PanelLink(
                "Orders to ship",
                shop_reports.orders_to_ship_count(),
                url_for("admin.orders", state="to_ship"),
                one="Order to ship",
            ),
        ],
        actions=[("All orders", url_for("admin.orders", state="all"))],
    )


@dashboard_panel(order=30)
def consultations_panel():
    span = periods()
    counts = booking_services.consultation_counts(
        span.today_start, span.today_end, span.week_ahead_end
    )
    return Panel(
        title="Consultations",
        links=[
            PanelLink(
                "Consultations today",
                counts["today"],
                url_for("admin.schedule", view="day", going_ahead=1),
                one="Consultation today",
            ),
            PanelLink(
                "Consultations in the next 7 days",
                counts["next_days"],
                url_for("admin.schedule", view="upcoming", days=7),
                one="Consultation in the next 7 days",
            ),
        ],
        actions=[("Open the schedule", url_for("admin.schedule"))],
    )


@dashboard_panel(order=40)
def newsletter_panel():
    week_start = periods().week_start
    figures = newsletter_reports.list_figures(week_start)
    issue, counts = newsletter_reports.last_issue_with_counts()
    confirmed = url_for("admin.newsletter", status="confirmed")
    # Everyone who confirmed since Monday, whatever they did since, as the figure counts.
    monday = week_start.astimezone(practitioner_zone()).date()
    new = url_for("admin.newsletter", since=monday.isoformat(), _anchor="subscribers")
    links = [
        PanelLink(
            "New subscribers this week",
            figures["new_this_week"],
            new,
            one="New subscriber this week",
        ),
        PanelLink(
            "Subscribers on the list", figures["list_size"], confirmed, one="Subscriber on the list"
        ),
    ]
    if issue is not None:
        issues = url_for("admin.newsletter", _anchor="issues")
        links += [
            PanelLink(
                f"Last issue: “{issue.subject}”, recipients",
                issue.recipient_count,
                issues,
                one=f"Last issue: “{issue.subject}”, recipient",
            ),
            PanelLink("Sent", counts["sent"], issues),
            PanelLink("Waiting to send", counts["pending"], issues),
            PanelLink("Failed or bounced", counts["failed"] + counts["bounced"], issues),
        ]
    return Panel(title="Newsletter", links=links)
