"""The dashboard is a list of panels. Each area adds its own from its admin views:

    from blueprints.admin.dashboard import Panel, PanelLink, dashboard_panel

    @dashboard_panel(order=20)
    def shop_panel():
        return Panel(title="Shop", links=[PanelLink("Orders to ship", count, url_for(...))])

A panel function runs on each dashboard request; it returns a ``Panel`` or ``None``
(nothing to show).
"""

from dataclasses import dataclass, field

_PANELS = []


@dataclass(frozen=True)
class PanelLink:
    label: str
    count: int | None
    url: str


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
