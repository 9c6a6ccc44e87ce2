"""Demo pages: the first text of each page, stored so staff can edit it at once, and a
placeholder portrait of Dr. Brown at the top of the About page."""

from flask import current_app

from blueprints.media.illustrations import demo_image
from blueprints.media.library import markdown_for
from blueprints.pages.content import first_text, save_page, seed_pages, stored_page


def seed(large=False):
    """Store each page's first text (idempotent: a stored page is left as it is). The
    text holds links to other pages, so it is built inside a request context."""
    with current_app.test_request_context("/"):
        seed_pages()
        _seed_portrait()


def _seed_portrait():
    """Put the demo's portrait (blueprints/media/illustrations.py) first on the About
    page while the page still has its first text. It is the page's photo: staff replace
    it by uploading hers and pasting its Markdown in its place."""
    about = stored_page("about")
    title, body_md = first_text("about")
    if about is None or about.body_md != body_md:
        return
    save_page("about", about.title, f"{markdown_for(demo_image('portrait'))}\n\n{body_md}")
