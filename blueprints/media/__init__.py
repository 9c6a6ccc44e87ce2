"""The media library: images uploaded by staff, checked and stripped of their metadata,
kept in the database with the sizes pages show, and served at fingerprinted addresses.
Posts (a hero image, pictures in the text) use it; the staff pages are in admin."""

from blueprints.media import routes  # noqa: F401  (views attach to bp)
from blueprints.media.blueprint import bp

__all__ = ["bp"]
