"""The dashboard is a list of panels. Each area adds its own from its admin views:

    from blueprints.admin.dashboard import Panel, PanelLink, dashboard_panel

    @dashboard_panel(order=20)
    def shop_panel():
        return Panel(title="Shop", links=[PanelLink("Orders to ship", count, url_for(...),
                                                     one="Order to ship")])

A panel function runs on each dashboard request; it returns a ``Panel`` or ``None``
(nothing to show). ``periods()`` gives every panel the same "today", "this week" and
"this month", in Dr. Brown's zone, worked out once per request.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import g

from blueprints.core.timezones import day_start, practitioner_zone
from blueprints.core.types import utcnow

_PANELS = []


@dataclass(frozen=True)
class PanelLink:
    label: str
    # A number, or a figure already written out (an amount of money).
    count: int | str | None
    # None for a figure made of its parts (each part links to its own list).
    url: str | None
    # The figure's parts, shown under it (e.g. revenue from the shop and from consultations).
    parts: tuple["PanelLink", ...] = ()
    # The label when the count is 1 ("Order to ship"); ``label`` is the plural.
    one: str | None = None

    @property
    def words(self):
        """The label as the figure reads: singular for a count of 1."""
        return self.one if self.one and self.count == 1 else self.label


@dataclass(frozen=True)
class Panel:
    title: str
    links: list[PanelLink] = field(default_factory=list)
    # Optional actions under the figures, e.g. ("Write a new post", url).
    actions: list[tuple[str, str]] = field(default_factory=list)


def dashboard_panel(order=100):
    """Register a function that builds one dashboard panel (lower ``order`` shows first)."""

    def register(func):
        _PANELS.append((order, func.__qualname__, func))
        return func

    return register


def build_panels():
    """The panels to show, in order."""
    panels = []
    for _order, _name, func in sorted(_PANELS, key=lambda item: (item[0], item[1])):
        panel = func()
        if panel is not None:
            panels.append(panel)
    return panels


@dataclass(frozen=True)
class Periods:
    """The dashboard's periods as UTC instants (each end excluded)."""

    today_start: datetime
    today_end: datetime
    week_start: datetime  # Monday
    month_start: datetime
    month_end: datetime
    week_ahead_end: datetime  # the end of the seventh day after today


def business_periods(now, zone):
    """Today, this week, this month and the next seven days around ``now`` as the
    calendar runs in ``zone``: dates first, then midnight in the zone, so a day with a
    clock change is still one day."""
    today = now.astimezone(zone).date()
    first_of_month = today.replace(day=1)
    next_month = (first_of_month + timedelta(days=32)).replace(day=1)

    def midnight(day):
        return day_start(day, zone)  # where every staff list by days starts a day

    return Periods(
        today_start=midnight(today),
        today_end=midnight(today + timedelta(days=1)),
        week_start=midnight(today - timedelta(days=today.weekday())),
        month_start=midnight(first_of_month),
        month_end=midnight(next_month),
        week_ahead_end=midnight(today + timedelta(days=8)),
    )


def periods():
    """This request's periods in Dr. Brown's zone."""
    if "dashboard_periods" not in g:
        g.dashboard_periods = business_periods(utcnow(), practitioner_zone())
    return g.dashboard_periods
