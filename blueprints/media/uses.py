"""Where images are used. The library knows no other area: each area that shows images
registers, when its blueprint is registered, a function that names the places using one
(``register_image_uses``), and an image is deleted only when none does."""

from flask import current_app

_EXTENSION = "better_bones_media_uses"


def register_image_uses(bp, finder):
    """``finder(image_id)`` returns a short description of each place that shows the
    image (``["the post “Strong bones” (hero image)"]``), or an empty list."""
    bp.record_once(lambda state: state.app.extensions.setdefault(_EXTENSION, []).append(finder))


def image_uses(image_id):
    """Every registered area's descriptions of where ``image_id`` is used."""
    places = []
    for finder in current_app.extensions.get(_EXTENSION, ()):
        places.extend(finder(image_id))
    return places
