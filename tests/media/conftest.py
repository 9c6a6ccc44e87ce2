"""Images made by Pillow in the test (never files from disk), and a signed-in staff
client that uploads them."""

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image


def image_bytes(kind="JPEG", size=(1000, 600), color=(200, 80, 40), **save):
    """An image of ``size`` in ``kind`` (a Pillow format name), with a little detail so
    the encoders have something to encode."""
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 50):
        image.paste((20, 120, 200), (x, 0, x + 10, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, kind, **save)
    return buffer.getvalue()


def photo_with_gps(size=(1000, 600), orientation=None):
    """A JPEG as a phone makes it: GPS position, camera model, and an orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Secret Phone 12"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (40.0, 44.0, 55.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (73.0, 59.0, 11.0),
    }
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    return image_bytes("JPEG", size, exif=exif.tobytes())


def png_declaring(width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb
    (or just a huge image) made of a few bytes, with valid checksums."""
    small = image_bytes("PNG", (1, 1))
    # The IHDR chunk follows the 8-byte signature: length, type, data, CRC.
    start = 8
    length = struct.unpack(">I", small[start : start + 4])[0]
    data = bytearray(small[start + 8 : start + 8 + length])
    data[0:8] = struct.pack(">II", width, height)
    chunk = b"IHDR" + bytes(data)
    ihdr = struct.pack(">I", length) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return small[:start] + ihdr + small[start + 12 + length :]


@pytest.fixture
def staff(client, auth):
    auth.login()
    return client


def upload(client, data, filename="photo.jpg", alt="Dr. Brown walking by the sea", **kw):
    """POST the upload form as the browser sends it (multipart)."""
    form = {"alt_text": alt}
    if data is not None:
        form["image"] = (io.BytesIO(data), filename, kw.pop("content_type", "image/jpeg"))
    return client.post("/admin/media", data=form, content_type="multipart/form-data", **kw)
