"""The media library's work: add an uploaded image (checked, stripped, its renditions
made once), describe it, delete it when unused, and say how pages show it.

Services flush, never commit; the views commit once.
"""

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from blueprints.core.audit import record_staff_action
from blueprints.core.cache_tags import SITE_TAG, invalidate_after_commit
from blueprints.media import processing
from blueprints.media.errors import EmptyFile, FileTooLarge, ImageInUse, MissingAltText
from blueprints.media.models import (
    CONTENT_TYPES,
    EXTENSIONS,
    MAX_FILENAME_LENGTH,
    MediaImage,
    MediaRendition,
)
from blueprints.media.uses import image_uses
from extensions import db

# Where a use found by the database, not by the areas, is: reloading shows it.
SAVED_MEANWHILE = "a post or product saved a moment ago (reload this page to see which)"
# How many characters of the file's SHA-256 fingerprint an image's addresses.
DIGEST_LENGTH = 12
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def clean_filename(name):
    """The uploaded file's name as shown to staff: its last path part, letters, digits,
    dots, dashes, underscores and spaces only, never empty."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE_IN_NAME.sub("-", base).strip(" .-")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:MAX_FILENAME_LENGTH].strip(" .-")
    return cleaned or "image"


def _limits():
    config = current_app.config
    return processing.Limits(
        max_pixels=config["MEDIA_MAX_PIXELS"], max_side=config["MEDIA_MAX_SIDE"]
    )


def max_upload_bytes():
    """The largest file the library takes, in bytes."""
    return current_app.config["MEDIA_MAX_UPLOAD_BYTES"]


def too_large_message():
    """What a person is told when the upload is over the size limit."""
    megabytes = max_upload_bytes() // (1024 * 1024)
    return f"That file is larger than {megabytes} MB. Please choose a smaller image."


@dataclass(frozen=True)
class Added:
    """The image an upload gave, and whether that file was already in the library."""

    image: MediaImage
    existing: bool


def image_with_digest(sha256):
    return db.session.scalar(select(MediaImage).where(MediaImage.sha256 == sha256))


@dataclass(frozen=True)
class Prepared:
    """A checked file's fingerprint, upright size, format and encoded renditions: all
    the library stores of it besides its name and description."""

    sha256: str
    width: int
    height: int
    format: str
    renditions: tuple


def prepare(data):
    """Decode ``data`` and encode every rendition the library serves (the slow part of
    an upload, and a pure function of the bytes and the settings). Raises a
    ``MediaError`` for a file that is refused."""
    upright, kind = processing.decode(data, _limits())
    config = current_app.config
    encoded = processing.renditions(
        upright,
        config["MEDIA_WIDTHS"],
        {"webp": config["MEDIA_WEBP_QUALITY"], "jpeg": config["MEDIA_JPEG_QUALITY"]},
    )
    return Prepared(
        hashlib.sha256(data).hexdigest(), upright.width, upright.height, kind, tuple(encoded)
    )


def add_image(data, *, filename, alt_text, uploaded_by=None):
    """Check ``data`` (the uploaded file's bytes) by decoding it, and store it with its
    renditions. The same file uploaded again is the image already stored (its
    description is left as it was). ``uploaded_by``: the staff account uploading it (a
    new image is audited under it), None for the demo seed. Raises a ``MediaError`` with
    the reason when the file is refused; nothing is stored then. Flushes."""
    if not (alt_text or "").strip():
        raise MissingAltText()
    if not data:
        raise EmptyFile()
    if len(data) > max_upload_bytes():
        raise FileTooLarge(too_large_message())
    found = image_with_digest(hashlib.sha256(data).hexdigest())
    if found is not None:
        return Added(found, existing=True)
    return add_prepared(
        prepare(data), filename=filename, alt_text=alt_text, uploaded_by=uploaded_by
    )


def add_prepared(prepared, *, filename, alt_text, uploaded_by=None):
    """Store a ``Prepared`` file, or find the image already stored from the same file
    (nothing new: nothing audited). Flushes."""
    found = image_with_digest(prepared.sha256)
    if found is not None:
        return Added(found, existing=True)
    image = MediaImage(
        filename=clean_filename(filename),
        alt_text=alt_text,
        width=prepared.width,
        height=prepared.height,
        format=prepared.format,
        sha256=prepared.sha256,
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        renditions=[
            MediaRendition(width=e.width, height=e.height, format=e.format, data=e.data)
            for e in prepared.renditions
        ],
    )
    try:
        # Two staff uploading the same file at once: the unique fingerprint keeps one.
        with db.session.begin_nested():
            db.session.add(image)
            db.session.flush()
    except IntegrityError:
        found = image_with_digest(prepared.sha256)
        if found is None:
            raise
        return Added(found, existing=True)
    if uploaded_by is not None:
        record_staff_action(
            uploaded_by.id, "media.upload", "media_image", image.id, {"filename": image.filename}
        )
    return Added(image, existing=False)


def set_alt_text(image, alt_text, *, actor):
    """Describe ``image`` anew, for staff ``actor`` (audited). Pages that show it (a
    post's hero image) are cached, and the library does not know which they are: every
    cached page is cleared. Flushes."""
    image.alt_text = alt_text
    db.session.flush()
    record_staff_action(actor.id, "media.describe", "media_image", image.id, {"alt_text": alt_text})
    invalidate_after_commit(SITE_TAG)


def delete_image(image, *, actor):
    """Delete ``image`` and its renditions for staff ``actor`` (audited), unless
    something still shows it (raises ``ImageInUse`` naming the places). Flushes.

    A post saved a moment ago with the image as its hero (after the check) makes the
    database's foreign key refuse the delete: that is the same refusal, never an error
    page."""
    places = image_uses(image.id)
    if places:
        raise ImageInUse(places)
    image_id, filename = image.id, image.filename
    try:
        with db.session.begin_nested():
            db.session.delete(image)
            db.session.flush()
    except IntegrityError:
        raise ImageInUse(image_uses(image_id) or [SAVED_MEANWHILE]) from None
    record_staff_action(actor.id, "media.delete", "media_image", image_id, {"filename": filename})


_NEWEST_FIRST = (
    select(MediaImage)
    .options(selectinload(MediaImage.renditions))
    .order_by(MediaImage.created_at.desc(), MediaImage.id.desc())
)


def images_page(page, per_page):
    """One page of the library, newest first (``db.paginate``), renditions loaded
    (without their bytes)."""
    query = _NEWEST_FIRST
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def recent_images(limit):
    """The ``limit`` newest images (the post editor's picker), renditions loaded."""
    return db.session.scalars(_NEWEST_FIRST.limit(limit)).all()


def image_choices():
    """(id, label) of every image, newest first, for a choice of image."""
    rows = db.session.execute(
        select(MediaImage.id, MediaImage.alt_text, MediaImage.filename).order_by(
            MediaImage.created_at.desc(), MediaImage.id.desc()
        )
    )
    return [(row.id, f"{row.alt_text} ({row.filename})") for row in rows]


# --- serving ----------------------------------------------------------------------------


def rendition_url(image_id, sha256, width, kind):
    """A rendition's fingerprinted address, ``/media/<id>-<digest>-<width>.<ext>`` (the
    route ``media.rendition``). Written out rather than built by ``url_for``: the same
    path goes into posts' Markdown, from a request or from a command, and never changes."""
    return f"/media/{image_id}-{sha256[:DIGEST_LENGTH]}-{width}.{EXTENSIONS[kind]}"


def markdown_url(image):
    """The address Markdown uses for ``image``: its largest JPEG (every browser shows it)."""
    widest = max(r.width for r in image.renditions if r.format == "jpeg")
    return rendition_url(image.id, image.sha256, widest, "jpeg")


def markdown_for(image):
    """``![alt](url)``, ready to paste into a post; brackets in the description escaped."""
    alt = image.alt_text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{alt}]({markdown_url(image)})"


_RENDITION = (
    select(MediaRendition.data, MediaImage.sha256)
    .join(MediaImage, MediaImage.id == MediaRendition.image_id)
    .where(
        MediaRendition.image_id == bindparam("image_id"),
        MediaRendition.width == bindparam("width"),
        MediaRendition.format == bindparam("kind"),
    )
)


@dataclass(frozen=True)
class Served:
    data: bytes
    content_type: str
    etag: str


def served_rendition(image_id, digest, width, ext):
    """The bytes of one rendition for its address, or None when the address names no
    rendition (an unknown image, size or format, or a digest of another file)."""
    kind = next((k for k, e in EXTENSIONS.items() if e == ext), None)
    if kind is None or len(digest) != DIGEST_LENGTH:
        return None
    row = db.session.execute(
        _RENDITION, {"image_id": image_id, "width": width, "kind": kind}
    ).first()
    if row is None or row.sha256[:DIGEST_LENGTH] != digest:
        return None
    # A rendition never changes once made, so its address is its version.
    return Served(row.data, CONTENT_TYPES[kind], f"{row.sha256[:DIGEST_LENGTH]}-{width}-{kind}")


# --- how pages show an image -------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    url: str
    width: int


@dataclass(frozen=True)
class Picture:
    """What a ``<picture>`` needs: the description, the size (for width and height, so
    the page does not jump), and each format's sources by width."""

    id: int
    alt: str
    width: int
    height: int
    webp: tuple
    jpeg: tuple

    @property
    def fallback(self):
        """The JPEG closest to 960 pixels wide: the ``src`` of browsers without srcset."""
        return min(self.jpeg, key=lambda s: abs(s.width - 960)).url

    def srcset(self, kind):
        return ", ".join(f"{s.url} {s.width}w" for s in getattr(self, kind))


_PICTURE_ROWS = select(
    MediaImage.id,
    MediaImage.alt_text,
    MediaImage.width,
    MediaImage.height,
    MediaImage.sha256,
    MediaRendition.width.label("rendition_width"),
    MediaRendition.format,
).join(MediaRendition, MediaRendition.image_id == MediaImage.id)
_PICTURE = _PICTURE_ROWS.where(MediaImage.id == bindparam("image_id")).order_by(
    MediaRendition.width
)
_PICTURES = _PICTURE_ROWS.where(MediaImage.id.in_(bindparam("image_ids", expanding=True)))


def _picture(image_id, alt, width, height, sha256, made):
    """A ``Picture`` from the image's columns and its renditions' (width, format)."""
    sources = {"webp": [], "jpeg": []}
    for rendition_width, kind in sorted(made):
        url = rendition_url(image_id, sha256, rendition_width, kind)
        sources[kind].append(Source(url, rendition_width))
    return Picture(image_id, alt, width, height, tuple(sources["webp"]), tuple(sources["jpeg"]))


def picture(image_id):
    """The ``Picture`` of an image, in one query (no bytes read), or None."""
    if image_id is None:
        return None
    rows = db.session.execute(_PICTURE, {"image_id": image_id}).all()
    if not rows:
        return None
    first = rows[0]
    made = [(row.rendition_width, row.format) for row in rows]
    return _picture(first.id, first.alt_text, first.width, first.height, first.sha256, made)


def pictures(image_ids):
    """The ``Picture`` of each of ``image_ids`` that exists, by id, in one query (a
    product's gallery, the shop's cards)."""
    ids = sorted(set(image_ids))
    if not ids:
        return {}
    rows = db.session.execute(_PICTURES, {"image_ids": ids}).all()
    found = {}
    for row in rows:
        found.setdefault(row.id, (row, []))[1].append((row.rendition_width, row.format))
    return {
        image_id: _picture(row.id, row.alt_text, row.width, row.height, row.sha256, made)
        for image_id, (row, made) in found.items()
    }


def picture_of(image):
    """The ``Picture`` of an image whose renditions are loaded (``images_page``)."""
    made = [(r.width, r.format) for r in image.renditions]
    return _picture(image.id, image.alt_text, image.width, image.height, image.sha256, made)


# A library image in rendered Markdown: ``<img src="/media/<id>-<digest>-<width>.<ext>" ...>``.
_MARKDOWN_IMAGE = re.compile(
    r'<img src="/media/(\d+)-[0-9a-f]+-(\d+)\.(?:jpg|webp)"(?![^>]*\bwidth=)[^>]*>'
)


def sized_images(html):
    """``html`` (rendered Markdown) with each library image given its width and height,
    so the page keeps its place while the picture loads; an image since deleted from the
    library is left out (an earlier version of a post, restored, never shows a broken
    picture). One query, none without images."""
    found = _MARKDOWN_IMAGE.findall(html)
    if not found:
        return html
    ids = {int(image_id) for image_id, _ in found}
    shapes = dict(
        (row.id, (row.width, row.height))
        for row in db.session.execute(
            select(MediaImage.id, MediaImage.width, MediaImage.height).where(MediaImage.id.in_(ids))
        )
    )

    def add_size(match):
        shape = shapes.get(int(match.group(1)))
        if shape is None:
            return ""
        width = int(match.group(2))
        height = round(width * shape[1] / shape[0])
        return match.group(0)[:-1] + f' width="{width}" height="{height}">'

    return _MARKDOWN_IMAGE.sub(add_size, html)
