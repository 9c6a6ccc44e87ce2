"""A measuring device: the site with every template rendering to an empty string.

``bench/pages.py --variants no-templates`` serves this app instead of the site. Each
page then does everything but write its HTML: Flask's request handling, our hooks, the
view's queries and Python, the context processors, the page cache's bookkeeping (off,
as in the uncached run). Its requests per second are the most that page could reach
were its templates replaced by anything at all, however fast: the ceiling of its
uncached ratio. Never serve it to anyone.
"""

from jinja2 import Template

from app import create_app as create_site


class EmptyTemplate(Template):
    """Loads and compiles like any template, renders nothing."""

    def render(self, *args, **kwargs):
        return ""


def create_app(config=None):
    app = create_site(config)
    # Set before the first request, so every template the app loads is of this class.
    app.jinja_env.template_class = EmptyTemplate
    return app
