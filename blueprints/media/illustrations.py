"""The demo's pictures, drawn by Pillow from this code: flat illustrations in the site's
colours (soft gradients, simple shapes, a figure in silhouette) for the vest, the
programs and the posts, and a placeholder portrait of Dr. Brown. The same code gives the
same pixels every time, so the repository holds no image files, and a second seed finds
each picture already in the library (one row per file). Staff replace any of them by
uploading a photo and choosing it instead.
"""

import io
import math
from functools import cache

from flask import current_app
from PIL import Image, ImageDraw, ImageFilter

from blueprints.media.library import add_prepared, prepare

# The site's palette (static/css/site.css) and two softer tones beside it.
TEAL = (11, 85, 99)
TEAL_DARK = (7, 58, 68)
PAPER = (244, 241, 234)
RUST = (138, 59, 18)
GOLD = (255, 191, 71)
SAGE = (168, 195, 181)
PEACH = (242, 198, 165)
CREAM = (252, 249, 243)

# Drawn at twice the size and reduced: smooth edges without an anti-aliasing renderer.
_SCALE = 2
# Small enough to encode quickly at every seed, large enough for a wide screen.
LANDSCAPE = (960, 720)
PORTRAIT = (640, 800)


def _gradient(size, top, bottom):
    """A vertical gradient from ``top`` to ``bottom``: one column blended, then widened."""
    w, h = size
    ramp = Image.linear_gradient("L").resize((1, h))
    column = Image.composite(Image.new("RGB", (1, h), bottom), Image.new("RGB", (1, h), top), ramp)
    return column.resize(size, Image.Resampling.NEAREST)


def _glow(canvas, centre, radius, colour, blur):
    """A soft disc of ``colour`` (a low sun, a halo) laid on ``canvas``."""
    x, y = centre
    side = int(2 * (radius + 2 * blur))
    box = (int(x - side / 2), int(y - side / 2))
    mask = Image.new("L", (side, side), 0)
    inset = 2 * blur
    ImageDraw.Draw(mask).ellipse((inset, inset, side - inset, side - inset), fill=200)
    canvas.paste(
        colour, (*box, box[0] + side, box[1] + side), mask.filter(ImageFilter.BoxBlur(blur))
    )


def _hills(draw, size, colour, base, amplitude, phase):
    w, h = size
    points = [
        (x, base + amplitude * math.sin(x / w * math.pi * 1.6 + phase)) for x in range(0, w + 1, 20)
    ]
    draw.polygon([(0, h), *points, (w, h)], fill=colour)


def _limb(draw, points, width, colour):
    draw.line(points, fill=colour, width=width, joint="curve")
    r = width // 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)


# A figure's joints for each pose, in units of its height (0 = top of the head, 1 = feet).
_POSES = {
    "stand": {
        "arms": [
            [(-0.06, 0.22), (-0.10, 0.40), (-0.09, 0.55)],
            [(0.06, 0.22), (0.10, 0.40), (0.09, 0.55)],
        ],
        "legs": [
            [(-0.04, 0.55), (-0.05, 0.77), (-0.05, 0.98)],
            [(0.04, 0.55), (0.05, 0.77), (0.05, 0.98)],
        ],
    },
    "walk": {
        "arms": [
            [(-0.05, 0.22), (-0.13, 0.38), (-0.16, 0.50)],
            [(0.05, 0.22), (0.12, 0.37), (0.19, 0.46)],
        ],
        "legs": [
            [(-0.03, 0.55), (-0.12, 0.76), (-0.19, 0.97)],
            [(0.03, 0.55), (0.10, 0.75), (0.14, 0.97)],
        ],
    },
    "balance": {
        "arms": [
            [(-0.05, 0.22), (-0.22, 0.28), (-0.36, 0.26)],
            [(0.05, 0.22), (0.22, 0.28), (0.36, 0.26)],
        ],
        "legs": [
            [(-0.02, 0.55), (-0.03, 0.77), (-0.03, 0.98)],
            [(0.04, 0.55), (0.16, 0.68), (0.07, 0.80)],
        ],
    },
}


def _figure(draw, foot, height, colour, pose="stand", vest=None, spine=None):
    """A woman in silhouette standing on ``foot`` (x, y), ``height`` pixels tall."""
    fx, fy = foot
    top = fy - height

    def at(dx, dy):
        return (fx + dx * height, top + dy * height)

    limb = max(4, int(height * 0.06))
    joints = _POSES[pose]
    for leg in joints["legs"]:
        _limb(draw, [at(*p) for p in leg], limb, colour)
    # A tunic: sloping shoulders, a little wider at the hips.
    torso = [at(-0.03, 0.17), at(0.03, 0.17), at(0.085, 0.205), at(0.095, 0.6),
             at(-0.095, 0.6), at(-0.085, 0.205)]  # fmt: skip
    draw.polygon(torso, fill=colour)
    for arm in joints["arms"]:
        _limb(draw, [at(*p) for p in arm], int(limb * 0.8), colour)
    draw.ellipse((*at(-0.055, 0.02), *at(0.055, 0.15)), fill=colour)  # head
    draw.ellipse((*at(-0.07, 0.0), *at(0.045, 0.09)), fill=colour)  # hair, swept back
    draw.rectangle((*at(-0.02, 0.14), *at(0.02, 0.2)), fill=colour)  # neck
    if vest:
        draw.polygon([at(-0.078, 0.2), at(0.078, 0.2), at(0.07, 0.44), at(-0.07, 0.44)], fill=vest)
        draw.line([at(0, 0.21), at(0, 0.44)], fill=GOLD, width=max(2, limb // 4))
    if spine:
        for n in range(8):
            x, y = at(0, 0.17 + n * 0.05)
            r = height * 0.014
            draw.ellipse((x - r, y - r * 0.8, x + r, y + r * 0.8), fill=spine)


def _vest(draw, centre, width, body, pockets, zip_colour):
    """A weighted vest, flat, seen from the front."""
    cx, cy = centre
    w = width
    outline = [
        (cx - 0.30 * w, cy - 0.50 * w), (cx - 0.12 * w, cy - 0.50 * w),
        (cx, cy - 0.30 * w),
        (cx + 0.12 * w, cy - 0.50 * w), (cx + 0.30 * w, cy - 0.50 * w),
        (cx + 0.42 * w, cy - 0.22 * w), (cx + 0.40 * w, cy + 0.42 * w),
        (cx - 0.40 * w, cy + 0.42 * w), (cx - 0.42 * w, cy - 0.22 * w),
    ]  # fmt: skip
    draw.polygon(outline, fill=body)
    for col in (-1, 1):
        for row in range(2):
            x0 = cx + col * 0.08 * w if col > 0 else cx - 0.30 * w
            y0 = cy - 0.05 * w + row * 0.22 * w
            draw.rounded_rectangle(
                (x0, y0, x0 + 0.22 * w, y0 + 0.16 * w), radius=0.03 * w, fill=pockets
            )
    draw.line(
        [(cx, cy - 0.30 * w), (cx, cy + 0.42 * w)], fill=zip_colour, width=max(3, int(w * 0.012))
    )


def _scene_vest_front(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.5, h * 0.45), h * 0.38, CREAM, 40)
    draw.ellipse((w * 0.25, h * 0.86, w * 0.75, h * 0.94), fill=(214, 208, 195))
    _vest(draw, (w * 0.5, h * 0.5), h * 0.78, TEAL, TEAL_DARK, GOLD)


def _scene_vest_bars(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.35, h * 0.45), h * 0.36, CREAM, 40)
    _vest(draw, (w * 0.36, h * 0.5), h * 0.7, TEAL, TEAL_DARK, GOLD)
    for n in range(6):  # the removable weight bars, laid out in a row
        x = w * 0.66 + (n % 3) * w * 0.09
        y = h * 0.32 + (n // 3) * h * 0.26
        draw.rounded_rectangle((x, y, x + w * 0.06, y + h * 0.18), radius=w * 0.012, fill=RUST)
        draw.rounded_rectangle(
            (x + w * 0.012, y + h * 0.02, x + w * 0.022, y + h * 0.16), radius=4, fill=PEACH
        )


def _scene_walk(canvas, draw, vest=TEAL_DARK):
    w, h = canvas.size
    _glow(canvas, (w * 0.72, h * 0.42), h * 0.16, GOLD, 30)
    _hills(draw, canvas.size, SAGE, h * 0.70, h * 0.05, 0.5)
    _hills(draw, canvas.size, (126, 163, 146), h * 0.80, h * 0.04, 2.2)
    _figure(draw, (w * 0.42, h * 0.86), h * 0.56, TEAL_DARK, "walk", vest=vest and TEAL)


def _scene_calendar(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.2, h * 0.2), h * 0.3, CREAM, 40)
    left, top, tile, gap = w * 0.2, h * 0.2, w * 0.13, w * 0.02
    draw.rounded_rectangle(
        (left - gap, top - h * 0.1, left + 4 * (tile + gap), top + 3 * (tile + gap)),
        radius=24,
        fill=CREAM,
    )
    draw.rectangle((left - gap, top - h * 0.1, left + 4 * (tile + gap), top - h * 0.04), fill=TEAL)
    for n in range(12):
        x = left + (n % 4) * (tile + gap)
        y = top + (n // 4) * (tile + gap)
        done = n < 7
        draw.rounded_rectangle(
            (x, y, x + tile, y + tile),
            radius=16,
            fill=SAGE if done else PAPER,
            outline=TEAL,
            width=4,
        )
        if done:  # a tick
            draw.line(
                [
                    (x + tile * 0.25, y + tile * 0.52),
                    (x + tile * 0.43, y + tile * 0.7),
                    (x + tile * 0.76, y + tile * 0.32),
                ],
                fill=TEAL_DARK,
                width=10,
                joint="curve",
            )
    _figure(draw, (w * 0.86, h * 0.9), h * 0.62, RUST, "stand", spine=GOLD)


def _scene_bowl(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.5, h * 0.5), h * 0.4, CREAM, 40)
    leaves = [
        (-0.2, 0.0, 0.13),
        (-0.08, -0.08, 0.15),
        (0.06, -0.1, 0.14),
        (0.18, -0.02, 0.12),
        (-0.02, 0.02, 0.12),
    ]
    for n, (dx, dy, r) in enumerate(leaves):
        x, y = w * (0.5 + dx), h * (0.48 + dy)
        colour = (46, 110, 72) if n % 2 else (86, 140, 90)
        draw.ellipse(
            (x - r * w * 0.6, y - r * h * 0.9, x + r * w * 0.6, y + r * h * 0.5), fill=colour
        )
        draw.line([(x, y + r * h * 0.4), (x, y - r * h * 0.7)], fill=(196, 222, 186), width=5)
    for n in range(5):  # almonds
        x = w * (0.36 + n * 0.07)
        draw.ellipse((x, h * 0.5, x + w * 0.045, h * 0.5 + h * 0.035), fill=(176, 112, 66))
    draw.chord((w * 0.22, h * 0.3, w * 0.78, h * 0.86), 0, 180, fill=TEAL)
    draw.rectangle((w * 0.22, h * 0.575, w * 0.78, h * 0.6), fill=TEAL_DARK)
    draw.ellipse((w * 0.42, h * 0.84, w * 0.58, h * 0.88), fill=TEAL_DARK)


def _scene_spine(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.5, h * 0.42), h * 0.36, CREAM, 40)
    _hills(draw, canvas.size, SAGE, h * 0.86, h * 0.015, 1.0)
    _figure(draw, (w * 0.5, h * 0.9), h * 0.74, TEAL_DARK, "stand", spine=GOLD)


def _scene_balance(canvas, draw):
    w, h = canvas.size
    _glow(canvas, (w * 0.5, h * 0.4), h * 0.34, CREAM, 40)
    draw.rounded_rectangle((w * 0.2, h * 0.86, w * 0.8, h * 0.9), radius=12, fill=SAGE)
    _figure(draw, (w * 0.5, h * 0.87), h * 0.66, RUST, "balance")


def _scene_portrait(canvas, draw):
    """A head and shoulders in silhouette, clearly a placeholder for her photo."""
    w, h = canvas.size
    _glow(canvas, (w * 0.5, h * 0.4), w * 0.36, CREAM, 50)
    draw.chord((w * 0.08, h * 0.62, w * 0.92, h * 1.5), 180, 360, fill=TEAL)  # shoulders
    draw.polygon(
        [(w * 0.42, h * 0.62), (w * 0.5, h * 0.74), (w * 0.58, h * 0.62)], fill=CREAM
    )  # collar
    draw.rectangle((w * 0.44, h * 0.5, w * 0.56, h * 0.64), fill=PEACH)  # neck
    hair = (120, 52, 20)
    draw.rounded_rectangle((w * 0.27, h * 0.13, w * 0.73, h * 0.6), radius=w * 0.2, fill=hair)
    draw.ellipse((w * 0.345, h * 0.2, w * 0.655, h * 0.57), fill=PEACH)  # face
    # A side-swept fringe.
    draw.chord((w * 0.3, h * 0.14, w * 0.7, h * 0.42), 190, 350, fill=hair)
    draw.polygon([(w * 0.33, h * 0.24), (w * 0.52, h * 0.17), (w * 0.62, h * 0.25)], fill=hair)


# name: (size, top colour, bottom colour, scene, description for people who cannot see it)
PICTURES = {
    "vest-front": (LANDSCAPE, PAPER, SAGE, _scene_vest_front,
                   "Illustration: a dark teal weighted vest seen from the front, with four weight pockets"),
    "vest-bars": (LANDSCAPE, PAPER, PEACH, _scene_vest_bars,
                  "Illustration: the vest beside six removable weight bars"),
    "vest-walk": (LANDSCAPE, CREAM, PEACH, _scene_walk,
                  "Illustration: a woman in a weighted vest walking over green hills at sunrise"),
    "program-back": (LANDSCAPE, CREAM, SAGE, _scene_calendar,
                     "Illustration: a twelve-week calendar, seven weeks ticked, beside a woman standing tall"),
    "program-food": (LANDSCAPE, PAPER, PEACH, _scene_bowl,
                     "Illustration: a teal bowl of leafy greens with almonds"),
    "post-spine": (LANDSCAPE, CREAM, SAGE, _scene_spine,
                   "Illustration: a woman standing tall, the bones of her spine marked in gold"),
    "post-walking": (LANDSCAPE, CREAM, SAGE, lambda c, d: _scene_walk(c, d, vest=None),
                     "Illustration: a woman walking briskly over green hills at sunrise"),
    "post-calcium": (LANDSCAPE, CREAM, SAGE, _scene_bowl,
                     "Illustration: a bowl of calcium-rich greens and almonds"),
    "post-balance": (LANDSCAPE, CREAM, PEACH, _scene_balance,
                     "Illustration: a woman balancing on one foot, arms out"),
    "portrait": (PORTRAIT, CREAM, SAGE, _scene_portrait,
                 "Dr. Susan E. Brown: an illustrated placeholder until her photo is uploaded"),
}  # fmt: skip


@cache
def png(name):
    """The PNG bytes of the picture ``name`` (drawn once per process)."""
    size, top, bottom, scene, _alt = PICTURES[name]
    big = (size[0] * _SCALE, size[1] * _SCALE)
    canvas = _gradient(big, top, bottom)
    scene(canvas, ImageDraw.Draw(canvas))
    buffer = io.BytesIO()
    # Only handed to the library, which encodes what is served: fast beats small here.
    canvas.reduce(_SCALE).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def alt_text(name):
    return PICTURES[name][-1]


# Each picture's library row is the same for the same settings: prepared once a process.
_PREPARED = {}


def demo_image(name):
    """The media library's image of the picture ``name``, added when missing. Flushes."""
    config = current_app.config
    key = (name, tuple(config["MEDIA_WIDTHS"]), config["MEDIA_WEBP_QUALITY"],
           config["MEDIA_JPEG_QUALITY"])  # fmt: skip
    if key not in _PREPARED:
        _PREPARED[key] = prepare(png(name))
    return add_prepared(_PREPARED[key], filename=f"demo-{name}.png", alt_text=alt_text(name)).image
