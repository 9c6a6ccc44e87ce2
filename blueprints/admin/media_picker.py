"""The image picker the post and page editors share (templates/admin/_media_picker.html):
the newest library images, each with the Markdown that shows it."""

from blueprints.media import library as media_library

PICKER_IMAGES = 24


def picker_images(limit=PICKER_IMAGES):
    """``[(picture, markdown)]`` for the newest ``limit`` images of the library."""
    images = media_library.recent_images(limit)
    return [(media_library.picture_of(i), media_library.markdown_for(i)) for i in images]
