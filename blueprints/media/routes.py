"""Serving the library's images at their fingerprinted addresses."""

from flask import abort, make_response, request

from blueprints.media.blueprint import bp
from blueprints.media.library import served_rendition

# An address names one rendition that never changes: browsers and proxies keep it.
IMMUTABLE = "public, max-age=31536000, immutable"
# Our own edge (nginx: X-Accel-Expires is read there and never passed on) asks again
# after a minute, so an image staff delete is gone from every new reader within it.
EDGE_SECONDS = 60


@bp.get("/media/<int:image_id>-<digest>-<int:width>.<any(webp, jpg):ext>")
def rendition(image_id, digest, width, ext):
    served = served_rendition(image_id, digest, width, ext)
    if served is None:
        abort(404)
    response = make_response(served.data)
    response.content_type = served.content_type
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Accel-Expires"] = str(EDGE_SECONDS)
    response.set_etag(served.etag)
    return response.make_conditional(request)
