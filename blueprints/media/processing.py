"""Reading an uploaded file as an image and encoding the sizes the site serves.

Nothing here trusts the file's name or the type the browser declared: the bytes are
decoded by Pillow, and only a JPEG, PNG or WebP that decodes completely is accepted.
Before any pixel is decoded the declared size is checked, so a small file that claims
to be enormous (a "decompression bomb") is refused without the memory it asks for.

What is served is re-encoded from the pixels alone: EXIF (GPS position, camera, time),
XMP, ICC profiles and comments are not copied. Two things those carried are applied to
the pixels first, since the tags that said so are dropped with the rest: a photo taken
sideways is turned upright (its EXIF orientation), and colours described by an ICC
profile (a phone's Display P3, a printer's CMYK) are converted to sRGB, which is what a
browser assumes of an image without one.
"""

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from blueprints.media.errors import DamagedImage, ImageTooBig, NotAnImage
from blueprints.media.models import UPLOAD_FORMATS

_PILLOW_FORMATS = tuple(name.upper() for name in UPLOAD_FORMATS)
# What Pillow raises for a file that starts as an image and goes wrong later.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@dataclass(frozen=True)
class Limits:
    """How large an upload may be, in pixels and along its longer side."""

    max_pixels: int
    max_side: int


@dataclass(frozen=True)
class Encoded:
    """One rendition's bytes."""

    width: int
    height: int
    format: str  # "webp" or "jpeg"
    data: bytes


def _too_big(width, height, limits):
    return width * height > limits.max_pixels or max(width, height) > limits.max_side


def _too_big_message(limits):
    megapixels = limits.max_pixels // 1_000_000
    return (
        f"That image is too large: it may have at most {megapixels} million pixels and "
        f"{limits.max_side:,} pixels along its longer side. Please make it smaller and "
        "try again."
    )


def _open(data, formats):
    """Pillow's lazy open of ``data`` as one of ``formats`` (reads the header only)."""
    return Image.open(io.BytesIO(data), formats=formats)


def decode(data, limits):
    """The upright pixels of an uploaded file and its format ("jpeg", "png", "webp").

    Raises ``NotAnImage`` (not a JPEG, PNG or WebP), ``ImageTooBig`` (more pixels or a
    longer side than ``limits`` allow, a decompression bomb among them) or
    ``DamagedImage`` (it does not decode to the end)."""
    with warnings.catch_warnings():
        # Pillow warns past Image.MAX_IMAGE_PIXELS and raises past twice that: both refuse.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = _open(data, _PILLOW_FORMATS)
        except UnidentifiedImageError as error:
            raise NotAnImage() from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooBig(_too_big_message(limits)) from error
        except _DECODE_ERRORS as error:
            raise DamagedImage() from error
        kind = probe.format
        if _too_big(*probe.size, limits):
            raise ImageTooBig(_too_big_message(limits))
        try:
            probe.verify()  # the file's own checksums and structure (PNG chunks' CRCs)
            # verify() leaves the image unusable: decode it again, every pixel this time.
            image = _open(data, (kind,))
            image.load()
            upright = ImageOps.exif_transpose(_in_srgb(image))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooBig(_too_big_message(limits)) from error
        except _DECODE_ERRORS as error:
            raise DamagedImage() from error
    return upright, kind.lower()


_SRGB = ImageCms.createProfile("sRGB")


def _in_srgb(image):
    """``image`` with its colours converted from its ICC profile to sRGB (as is, when it
    has none, or one that cannot be read)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    converted.info = {k: v for k, v in image.info.items() if k != "icc_profile"}
    return converted


def _pixels_only(image, keep_alpha):
    """RGB (or RGBA) pixels with no metadata attached."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha and keep_alpha:
        clean = image.convert("RGBA")
    elif has_alpha:
        # JPEG has no transparency: what was see-through is shown on white.
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
    else:
        clean = image.convert("RGB")
    clean.info = {}
    return clean


def rendition_widths(width, widths):
    """The widths to make for an image ``width`` pixels wide: each of ``widths`` below
    it, and the image's own width up to the largest (nothing is enlarged)."""
    largest = max(widths)
    return sorted({w for w in widths if w < width} | {min(width, largest)})


def _encode(image, kind, quality):
    buffer = io.BytesIO()
    if kind == "jpeg":
        image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=quality, method=4)
    return buffer.getvalue()


def renditions(image, widths, quality):
    """Every rendition of ``image`` (decoded by ``decode``): each width of
    ``rendition_widths`` in WebP and JPEG. ``quality`` maps each format to its quality."""
    sizes = rendition_widths(image.width, widths)
    largest = sizes[-1]
    image = _pixels_only(image, keep_alpha=True)
    if image.width > largest:
        # Shrink once to the largest size served: the copies below are then small, not
        # several times a 40-megapixel original.
        height = max(1, round(image.height * largest / image.width))
        image = image.resize((largest, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    webp_source = image
    jpeg_source = _pixels_only(image, keep_alpha=False)
    made = []
    for width in sizes:
        height = max(1, round(image.height * width / image.width))
        for kind, source in (("webp", webp_source), ("jpeg", jpeg_source)):
            sized = source
            if width != source.width:
                sized = source.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
                sized.info = {}
            made.append(Encoded(width, height, kind, _encode(sized, kind, quality[kind])))
    return made
