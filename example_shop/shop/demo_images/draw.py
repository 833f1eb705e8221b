"""Draw the demo product images shipped with the example shop.

Run it once with ``python example_shop/shop/demo_images/draw.py``: it writes the PNGs next to
this file, and those PNGs are committed, so neither the shop nor its tests ever run it.

Pure Pillow. Each garment is a handful of bezier outlines filled with a woven texture, given
soft edge shading, seams, stitching and a drop shadow, drawn at twice the size and scaled down
so that every edge comes out clean.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from functools import cache
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
W, H = 800, 1000
SS = 2  # drawn at SS times the size, then scaled down
SIZE = (W * SS, H * SS)
MAX_BYTES = 150_000

Point = tuple[float, float]
RGB = tuple[int, int, int]


# -- geometry -----------------------------------------------------------------------------


class Outline:
    """A polyline made of straight and cubic bezier segments, in 800x1000 coordinates."""

    def __init__(self, x: float, y: float) -> None:
        self.points: list[Point] = [(x, y)]

    def to(self, x: float, y: float) -> Outline:
        self.points.append((x, y))
        return self

    def curve(self, c1: Point, c2: Point, end: Point, steps: int = 32) -> Outline:
        x0, y0 = self.points[-1]
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            a, b, c, d = u**3, 3 * u * u * t, 3 * u * t * t, t**3
            self.points.append(
                (
                    a * x0 + b * c1[0] + c * c2[0] + d * end[0],
                    a * y0 + b * c1[1] + c * c2[1] + d * end[1],
                )
            )
        return self


def curve(start: Point, c1: Point, c2: Point, end: Point, steps: int = 32) -> list[Point]:
    return Outline(*start).curve(c1, c2, end, steps).points


def mirror(points: Sequence[Point]) -> list[Point]:
    return [(W - x, y) for x, y in points]


def symmetric(right_half: Sequence[Point]) -> list[Point]:
    """A closed outline from its right half, drawn from the top centre to the bottom centre."""
    return [*right_half, *mirror(list(reversed(right_half)))]


def scaled(points: Sequence[Point]) -> list[Point]:
    return [(x * SS, y * SS) for x, y in points]


def offset(points: Sequence[Point], distance: float) -> list[Point]:
    """The polyline moved sideways by ``distance`` (positive: to the right of travel)."""
    out = []
    for i, (x, y) in enumerate(points):
        xa, ya = points[max(i - 1, 0)]
        xb, yb = points[min(i + 1, len(points) - 1)]
        dx, dy = xb - xa, yb - ya
        norm = math.hypot(dx, dy) or 1.0
        out.append((x - dy / norm * distance, y + dx / norm * distance))
    return out


def band(points: Sequence[Point], width: float) -> list[Point]:
    """A closed strip of ``width`` centred on a polyline (a collar rib, a binding)."""
    return [*offset(points, width / 2), *reversed(offset(points, -width / 2))]


def shrink(points: Sequence[Point], distance: float) -> list[Point]:
    """Each point moved ``distance`` towards the centroid (good enough for convex shapes)."""
    cx = sum(x for x, _ in points) / len(points)
    cy = sum(y for _, y in points) / len(points)
    out = []
    for x, y in points:
        dx, dy = cx - x, cy - y
        norm = math.hypot(dx, dy) or 1.0
        out.append((x + dx / norm * distance, y + dy / norm * distance))
    return out


def ellipse(cx: float, cy: float, rx: float, ry: float, steps: int = 72) -> list[Point]:
    return [
        (cx + rx * math.cos(2 * math.pi * i / steps), cy + ry * math.sin(2 * math.pi * i / steps))
        for i in range(steps)
    ]


def lerp_lines(a: Sequence[Point], b: Sequence[Point], t: float) -> list[Point]:
    return [
        (xa + (xb - xa) * t, ya + (yb - ya) * t) for (xa, ya), (xb, yb) in zip(a, b, strict=True)
    ]


def dashed(points: Sequence[Point], on: float, off: float) -> list[list[Point]]:
    segments: list[list[Point]] = []
    current = [points[0]]
    drawing, left = True, on
    for (x0, y0), (x1, y1) in pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0)
        pos = 0.0
        while length - pos > left:
            pos += left
            p = (x0 + (x1 - x0) * pos / length, y0 + (y1 - y0) * pos / length)
            if drawing:
                current.append(p)
                segments.append(current)
            else:
                current = [p]
            drawing = not drawing
            left = on if drawing else off
        left -= length - pos
        if drawing:
            current.append((x1, y1))
    if drawing and len(current) > 1:
        segments.append(current)
    return segments


# -- colour and cloth ---------------------------------------------------------------------


def tint(color: RGB, factor: float) -> RGB:
    return tuple(max(0, min(255, round(c * factor))) for c in color)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def solid(color: RGB) -> Image.Image:
    return Image.new("RGB", SIZE, color)


def gradient(top: RGB, bottom: RGB) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(SIZE, Image.Resampling.BILINEAR)
    return Image.composite(solid(bottom), solid(top), ramp)


def stripes(base: RGB, stripe: RGB, period: int, width: int, start: int = 0) -> Image.Image:
    img = solid(base)
    draw = ImageDraw.Draw(img)
    for y in range(start, H, period):
        draw.rectangle((0, y * SS, W * SS, (y + width) * SS), fill=stripe)
    return img


def dots(base: RGB, dot: RGB, spacing: int, radius: float) -> Image.Image:
    img = solid(base)
    draw = ImageDraw.Draw(img)
    for row, y in enumerate(range(0, H + spacing, spacing)):
        shift = spacing / 2 if row % 2 else 0
        for x in range(0, W + spacing, spacing):
            cx, cy = (x + shift) * SS, y * SS
            r = radius * SS
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=dot)
    return img


def tortoise(seed: int) -> Image.Image:
    rng = random.Random(seed)
    img = solid((146, 86, 38))
    draw = ImageDraw.Draw(img)
    for _ in range(900):
        x, y = rng.uniform(0, W) * SS, rng.uniform(0, H) * SS
        rx, ry = rng.uniform(4, 22) * SS, rng.uniform(3, 12) * SS
        color = rng.choice([(58, 30, 14), (84, 44, 18), (188, 122, 52), (112, 60, 24)])
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=color)
    return img.filter(ImageFilter.GaussianBlur(5 * SS))


def weave(kind: str, seed: int = 7) -> Image.Image:
    """A grey multiplier (255: unchanged) that gives a fabric its surface."""
    img = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(img)
    if kind in ("jersey", "heather"):
        for x in range(0, W * SS, 6):
            draw.line((x, 0, x, H * SS), fill=242, width=2)
    elif kind == "rib":
        for x in range(0, W * SS, 10):
            draw.line((x, 0, x, H * SS), fill=214, width=4)
    elif kind == "twill":
        for x in range(-H * SS, W * SS, 9):
            draw.line((x, 0, x + H * SS, H * SS), fill=232, width=3)
    elif kind == "canvas":
        for x in range(0, W * SS, 8):
            draw.line((x, 0, x, H * SS), fill=240, width=2)
        for y in range(0, H * SS, 8):
            draw.line((0, y, W * SS, y), fill=240, width=2)
    if kind == "heather":
        noise = Image.effect_noise((W // 2, H // 2), 40).resize(SIZE, Image.Resampling.BILINEAR)
        noise = noise.point(lambda v: 255 - abs(v - 128) // 14)
        img = ImageChops.multiply(img, noise)
    return img


def fabric(colors: Image.Image | RGB, kind: str = "plain") -> Image.Image:
    field = colors if isinstance(colors, Image.Image) else solid(colors)
    if kind == "plain":
        return field
    return ImageChops.multiply(field, weave(kind).convert("RGB"))


@cache
def light() -> Image.Image:
    """Soft light from the top left: a multiplier from 255 down to about 228."""
    vertical = Image.linear_gradient("L").resize(SIZE).point(lambda v: 255 - v * 18 // 255)
    horizontal = (
        Image.linear_gradient("L")
        .rotate(90)
        .transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        .resize(SIZE)
        .point(lambda v: 255 - v * 10 // 255)
    )
    return ImageChops.multiply(vertical, horizontal)


def polygon_mask(points: Sequence[Point]) -> Image.Image:
    mask = Image.new("L", SIZE, 0)
    ImageDraw.Draw(mask).polygon(scaled(points), fill=255)
    return mask


# -- the canvas ---------------------------------------------------------------------------


class Canvas:
    def __init__(self, background: RGB) -> None:
        self.background = background
        self.layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))

    def piece(
        self,
        points: Sequence[Point],
        cloth: Image.Image,
        *,
        shade: float = 0.34,
        radius: float = 24,
        clip: bool = False,
    ) -> None:
        """Lay a piece of cloth: filled, darker towards its edges, lit from the top left."""
        mask = polygon_mask(points)
        if clip:
            mask = ImageChops.multiply(mask, self.layer.getchannel("A"))
        inner = mask.filter(ImageFilter.GaussianBlur(radius * SS))
        edge = inner.point(lambda v: 255 - int((255 - v) * shade))
        colored = ImageChops.multiply(cloth, ImageChops.multiply(edge, light()).convert("RGB"))
        colored.putalpha(mask)
        self.layer.alpha_composite(colored)

    def stroke(
        self,
        points: Sequence[Point],
        color: RGB,
        width: float,
        *,
        alpha: int = 255,
        dash: tuple[float, float] | None = None,
        blur: float = 0,
        clip: bool = True,
    ) -> None:
        """A seam, a fold (blurred) or a line of stitches (dashed), kept inside the cloth."""
        tmp = Image.new("RGBA", SIZE, (0, 0, 0, 0))
        draw = ImageDraw.Draw(tmp)
        lines = dashed(points, *dash) if dash else [list(points)]
        for line in lines:
            draw.line(
                scaled(line), fill=(*color, alpha), width=max(1, round(width * SS)), joint="curve"
            )
        if blur:
            tmp = tmp.filter(ImageFilter.GaussianBlur(blur * SS))
        if clip:
            tmp.putalpha(ImageChops.multiply(tmp.getchannel("A"), self.layer.getchannel("A")))
        self.layer.alpha_composite(tmp)

    def fold(
        self, points: Sequence[Point], *, dark: bool = True, strength: int = 60, width: float = 14
    ) -> None:
        color = (20, 16, 12) if dark else (255, 255, 255)
        self.stroke(points, color, width, alpha=strength, blur=width * 0.7)

    def render(self) -> Image.Image:
        bg = gradient(tint(self.background, 1.015), tint(self.background, 0.965)).convert("RGBA")
        alpha = self.layer.getchannel("A")
        for dx, dy, blur, opacity in ((5, 16, 22, 0.30), (1, 4, 4, 0.22)):
            shadow = Image.new("L", SIZE, 0)
            shadow.paste(alpha, (dx * SS, dy * SS))
            shadow = shadow.filter(ImageFilter.GaussianBlur(blur * SS))
            shadow = shadow.point(lambda v, o=opacity: int(v * o))
            dark = Image.new("RGBA", SIZE, (*tint(self.background, 0.42), 0))
            dark.putalpha(shadow)
            bg.alpha_composite(dark)
        bg.alpha_composite(self.layer)
        return bg.convert("RGB").resize((W, H), Image.Resampling.LANCZOS)


# -- the garments -------------------------------------------------------------------------


def tee() -> Canvas:
    color = (196, 104, 74)
    canvas = Canvas((244, 237, 229))
    back_neck = curve((332, 196), (368, 214), (432, 214), (468, 196))
    right = [
        *curve((400, 214), (430, 214), (455, 206), (468, 196)),
        *Outline(468, 196)
        .to(594, 232)
        .curve((630, 290), (665, 345), (692, 392))
        .to(614, 442)
        .curve((595, 420), (575, 400), (556, 384))
        .curve((548, 520), (556, 680), (566, 812))
        .curve((500, 820), (450, 821), (400, 821))
        .points,
    ]
    canvas.piece(symmetric(right), fabric(color, "jersey"))
    front_neck = [
        *curve((332, 196), (342, 232), (370, 252), (400, 252)),
        *curve((400, 252), (430, 252), (458, 232), (468, 196)),
    ]
    canvas.piece(
        [*back_neck, *reversed(front_neck)], fabric(tint(color, 0.72), "jersey"), shade=0.2
    )
    canvas.piece(
        [(389, 214), (411, 214), (411, 232), (389, 232)], fabric((238, 228, 210)), shade=0.1
    )
    canvas.piece(band(front_neck, 18), fabric(tint(color, 0.95), "rib"), shade=0.3, radius=4)
    canvas.stroke(offset(front_neck, 12), tint(color, 0.75), 1.6, dash=(7, 5))
    for side in (lambda p: p, mirror):
        canvas.stroke(
            side(curve((588, 236), (572, 290), (560, 340), (556, 384))), tint(color, 0.78), 2
        )
        canvas.stroke(side([(681, 377), (603, 426)]), tint(color, 0.75), 1.6, dash=(7, 5))
        canvas.fold(side([(540, 420), (500, 520), (470, 560)]), strength=40)
    hem = curve((236, 796), (330, 804), (470, 804), (564, 796))
    canvas.stroke(hem, tint(color, 0.75), 1.6, dash=(7, 5))
    return canvas


def breton() -> Canvas:
    ecru, navy = (240, 233, 218), (38, 52, 92)
    canvas = Canvas((233, 237, 242))
    right = [
        *curve((400, 208), (450, 208), (495, 204), (522, 194)),
        *Outline(522, 194)
        .to(602, 222)
        .curve((650, 360), (690, 520), (722, 648))
        .to(668, 668)
        .curve((635, 560), (600, 450), (562, 372))
        .curve((556, 520), (562, 720), (568, 852))
        .curve((500, 858), (450, 858), (400, 858))
        .points,
    ]
    outline = symmetric(right)
    canvas.piece(outline, fabric(stripes(ecru, navy, 46, 17, 262), "jersey"))
    canvas.piece(
        [(0, 820), (W, 820), (W, H), (0, H)], fabric(ecru, "jersey"), clip=True, shade=0.25
    )
    for side in (lambda p: p, mirror):
        canvas.piece(
            side([(657, 610), (714, 598), (730, 652), (668, 674)]),
            fabric(ecru, "jersey"),
            clip=True,
        )
        canvas.stroke(
            side(curve((596, 226), (582, 280), (570, 330), (562, 372))), tint(navy, 1.2), 2.5
        )
        canvas.fold(side([(620, 420), (640, 520)]), strength=35)
    neck = [*curve((278, 194), (330, 214), (470, 214), (522, 194))]
    canvas.piece(band(neck, 20), fabric(ecru, "jersey"), shade=0.3, radius=4)
    canvas.stroke(offset(neck, 12), tint(ecru, 0.7), 1.6, dash=(7, 5))
    canvas.stroke([(236, 834), (564, 834)], tint(ecru, 0.7), 1.6, dash=(7, 5))
    for x, y in ((318, 236), (300, 232), (282, 228)):
        canvas.piece(ellipse(x, y, 6, 6), fabric((214, 200, 176)), shade=0.5, radius=3)
    canvas.fold([(320, 600), (380, 680), (470, 700)], dark=False, strength=40, width=24)
    return canvas


def dress() -> Canvas:
    sage = (138, 158, 128)
    canvas = Canvas((241, 237, 228))
    right = [
        *curve((400, 226), (430, 226), (455, 200), (468, 170)),
        *Outline(468, 170)
        .to(508, 172)
        .curve((506, 240), (526, 305), (560, 332))
        .curve((552, 390), (540, 430), (538, 462))
        .curve((590, 600), (660, 780), (694, 902))
        .curve((600, 926), (480, 934), (400, 934))
        .points,
    ]
    canvas.piece(symmetric(right), fabric(dots(sage, (232, 228, 210), 34, 2.6), "jersey"))
    front = [(332, 170), (400, 338), (468, 170)]
    back = curve((332, 170), (360, 222), (440, 222), (468, 170))
    canvas.piece([*back, *reversed(front)], fabric(tint(sage, 0.7), "canvas"), shade=0.2)
    canvas.stroke(front, tint(sage, 0.82), 7)
    canvas.stroke(offset(front[:2], 8), tint(sage, 0.7), 1.5, dash=(7, 5))
    canvas.stroke(offset(front[1:], 8), tint(sage, 0.7), 1.5, dash=(7, 5))
    belt = tint(sage, 0.9)
    canvas.piece(
        [(0, 446), (W, 446), (W, 478), (0, 478)],
        fabric(belt, "canvas"),
        clip=True,
        shade=0.4,
        radius=8,
    )
    canvas.piece(
        [(538, 452), (560, 440), (620, 612), (596, 622)],
        fabric(belt, "canvas"),
        shade=0.4,
        radius=8,
    )
    canvas.piece(
        [(548, 458), (572, 452), (586, 650), (562, 654)],
        fabric(belt, "canvas"),
        shade=0.4,
        radius=8,
    )
    canvas.piece(ellipse(552, 462, 22, 18), fabric(tint(belt, 0.95), "canvas"), shade=0.5, radius=8)
    for x0, x1, dark in ((430, 450, True), (470, 520, False), (500, 590, True), (420, 400, False)):
        for side in (lambda p: p, mirror):
            canvas.fold(
                side([(x0, 500), (x1 + (x1 - x0) * 0.8, 900)]), dark=dark, strength=50, width=18
            )
    canvas.stroke(
        curve((108, 890), (300, 920), (500, 920), (692, 890)), tint(sage, 0.7), 1.5, dash=(7, 5)
    )
    return canvas


def hoodie() -> Canvas:
    grey = (92, 104, 122)
    canvas = Canvas((236, 236, 233))
    hood = [
        *curve((316, 250), (296, 160), (336, 94), (400, 92)),
        *curve((400, 92), (464, 94), (504, 160), (484, 250)),
    ]
    canvas.piece(hood, fabric(grey, "heather"))
    right = [
        *curve((400, 262), (440, 262), (462, 244), (472, 224)),
        *Outline(472, 224)
        .to(598, 252)
        .curve((650, 380), (690, 520), (714, 642))
        .to(722, 702)
        .to(668, 714)
        .to(660, 654)
        .curve((630, 560), (600, 470), (566, 402))
        .curve((562, 540), (566, 660), (572, 752))
        .to(566, 826)
        .curve((500, 828), (450, 828), (400, 828))
        .points,
    ]
    canvas.piece(symmetric(right), fabric(grey, "heather"))
    rib = fabric(tint(grey, 0.95), "rib")
    canvas.piece([(0, 754), (W, 754), (W, H), (0, H)], rib, clip=True, shade=0.3, radius=8)
    opening = [
        *curve((344, 262), (330, 200), (360, 140), (400, 138)),
        *curve((400, 138), (440, 140), (470, 200), (456, 262)),
    ]
    canvas.piece(opening, fabric(tint(grey, 0.55), "heather"), shade=0.3)
    canvas.piece(band(opening, 14), fabric(tint(grey, 1.06), "heather"), shade=0.3, radius=4)
    canvas.stroke(offset(opening, -4), tint(grey, 0.8), 1.5, dash=(7, 5))
    for side in (lambda p: p, mirror):
        canvas.piece(
            side([(660, 654), (714, 642), (722, 702), (668, 714)]), rib, shade=0.3, radius=8
        )
        canvas.stroke(
            side(curve((592, 256), (580, 300), (572, 350), (566, 402))), tint(grey, 0.75), 2.5
        )
        canvas.fold(side([(610, 430), (640, 560)]), strength=40)
    pocket = [
        (342, 560),
        (458, 560),
        *curve((458, 560), (490, 600), (510, 640), (540, 670)),
        (540, 738),
        (260, 738),
        *curve((260, 670), (290, 640), (310, 600), (342, 560)),
    ]
    canvas.piece(pocket, fabric(grey, "heather"), shade=0.35, radius=10)
    canvas.stroke([(342, 572), (458, 572)], tint(grey, 0.75), 1.5, dash=(7, 5))
    canvas.stroke(
        offset(curve((458, 560), (490, 600), (510, 640), (540, 670)), 10),
        tint(grey, 0.75),
        1.5,
        dash=(7, 5),
    )
    canvas.stroke(
        offset(curve((260, 670), (290, 640), (310, 600), (342, 560)), 10),
        tint(grey, 0.75),
        1.5,
        dash=(7, 5),
    )
    cord = (232, 226, 214)
    for top, bottom in (((382, 268), (368, 432)), ((418, 268), (436, 420))):
        canvas.piece(ellipse(*top, 7, 7), fabric((200, 200, 196)), shade=0.6, radius=3)
        canvas.stroke(curve(top, (top[0] - 4, 320), (bottom[0], 380), bottom), cord, 7, clip=False)
        canvas.piece(
            [
                (bottom[0] - 5, bottom[1]),
                (bottom[0] + 5, bottom[1]),
                (bottom[0] + 5, bottom[1] + 24),
                (bottom[0] - 5, bottom[1] + 24),
            ],
            fabric((196, 190, 178)),
            shade=0.4,
            radius=3,
        )
    canvas.fold([(320, 460), (380, 520), (470, 530)], dark=False, strength=35, width=24)
    return canvas


def jacket() -> Canvas:
    ochre = (176, 132, 62)
    canvas = Canvas((242, 238, 230))
    right = [
        (400, 192),
        *curve((400, 192), (440, 192), (466, 196), (482, 202)),
        *Outline(482, 202)
        .to(612, 238)
        .curve((660, 380), (700, 530), (736, 660))
        .to(680, 684)
        .curve((650, 580), (612, 480), (576, 396))
        .curve((580, 560), (582, 720), (586, 884))
        .to(400, 886)
        .points,
    ]
    canvas.piece(symmetric(right), fabric(ochre, "twill"))
    canvas.stroke([(400, 250), (400, 886)], tint(ochre, 0.6), 2.5)
    canvas.stroke([(380, 250), (380, 880)], tint(ochre, 0.72), 1.6, dash=(7, 5))
    canvas.stroke([(236, 866), (564, 866)], tint(ochre, 0.72), 1.6, dash=(7, 5))
    collar = [
        (404, 194),
        *curve((404, 194), (440, 194), (468, 198), (484, 204)),
        (472, 252),
        (448, 320),
        *curve((448, 320), (430, 290), (412, 270), (404, 252)),
    ]
    for side in (lambda p: p, mirror):
        canvas.piece(side(collar), fabric(tint(ochre, 1.04), "twill"), shade=0.45, radius=10)
        canvas.stroke(
            side([(476, 218), (464, 256), (444, 304)]), tint(ochre, 0.7), 1.5, dash=(7, 5)
        )
        canvas.stroke(
            side(curve((606, 242), (592, 300), (582, 350), (576, 396))), tint(ochre, 0.72), 2.5
        )
        canvas.stroke(side([(666, 616), (722, 594)]), tint(ochre, 0.72), 1.6, dash=(7, 5))
        canvas.stroke(side([(670, 628), (726, 606)]), tint(ochre, 0.72), 1.6, dash=(7, 5))
        pocket = [(430, 566), (540, 566), (540, 694), (485, 708), (430, 694)]
        canvas.piece(side(pocket), fabric(ochre, "twill"), shade=0.4, radius=6)
        canvas.stroke(side([(430, 582), (540, 582)]), tint(ochre, 0.7), 1.5, dash=(7, 5))
        canvas.stroke(
            side(shrink(pocket, 8)[1:] + shrink(pocket, 8)[:1]), tint(ochre, 0.7), 1.5, dash=(7, 5)
        )
        canvas.fold(side([(540, 420), (510, 520)]), strength=40)
    chest = [(300, 350), (372, 350), (372, 432), (336, 442), (300, 432)]
    canvas.piece(chest, fabric(ochre, "twill"), shade=0.4, radius=6)
    canvas.stroke([(300, 362), (372, 362)], tint(ochre, 0.7), 1.5, dash=(7, 5))
    horn = (86, 56, 32)
    for y in (300, 420, 540, 660, 780):
        canvas.piece(ellipse(400, y, 12, 12), fabric(horn), shade=0.6, radius=4)
        canvas.piece(ellipse(397, y - 3, 3, 3), fabric(tint(horn, 1.6)), shade=0)
        canvas.stroke([(394, y + 2), (406, y + 2)], tint(horn, 0.6), 1.5, clip=False)
    canvas.fold([(270, 500), (340, 540), (390, 540)], dark=False, strength=40, width=26)
    return canvas


def trousers() -> Canvas:
    sand = (190, 164, 126)
    canvas = Canvas((236, 234, 239))
    right = [
        (400, 168),
        *Outline(400, 168)
        .to(562, 168)
        .to(564, 218)
        .curve((584, 300), (598, 420), (604, 520))
        .to(642, 906)
        .to(430, 906)
        .curve((424, 700), (416, 560), (404, 470))
        .to(400, 470)
        .points,
    ]
    canvas.piece(symmetric(right), fabric(sand, "twill"))
    canvas.piece(
        [(0, 168), (W, 168), (W, 220), (0, 220)],
        fabric(tint(sand, 1.02), "twill"),
        clip=True,
        shade=0.4,
        radius=8,
    )
    canvas.stroke([(240, 212), (560, 212)], tint(sand, 0.72), 1.5, dash=(7, 5))
    canvas.stroke([(240, 176), (560, 176)], tint(sand, 0.72), 1.5, dash=(7, 5))
    canvas.stroke([(400, 220), (400, 466)], tint(sand, 0.66), 2)
    canvas.stroke(
        curve((422, 220), (422, 330), (422, 370), (402, 404)), tint(sand, 0.7), 1.5, dash=(7, 5)
    )
    canvas.piece(ellipse(400, 194, 10, 10), fabric((90, 76, 60)), shade=0.5, radius=3)
    for side in (lambda p: p, mirror):
        for x in (452, 540):
            canvas.piece(
                side([(x - 8, 160), (x + 8, 160), (x + 8, 228), (x - 8, 228)]),
                fabric(tint(sand, 1.03), "twill"),
                shade=0.5,
                radius=4,
            )
        canvas.stroke(side([(538, 220), (588, 350)]), tint(sand, 0.62), 2.5)
        canvas.fold(side([(470, 226), (486, 440)]), strength=50, width=10)
        canvas.fold(side([(490, 300), (536, 900)]), strength=45, width=8)
        canvas.fold(side([(500, 300), (548, 900)]), dark=False, strength=60, width=10)
        canvas.stroke(side([(430, 888), (642, 888)]), tint(sand, 0.72), 1.5, dash=(7, 5))
    return canvas


def cap() -> Canvas:
    green = (52, 84, 66)
    canvas = Canvas((238, 240, 233))

    def at(points: Sequence[Point]) -> list[Point]:
        """The cap is drawn in profile around (480, 500): centre it and scale it up."""
        return [(400 + (x - 480) * 1.22, 520 + (y - 500) * 1.22) for x, y in points]

    crown = [
        *curve((190, 612), (185, 470), (270, 340), (410, 330)),
        *curve((410, 330), (520, 326), (586, 430), (590, 598)),
        *curve((590, 598), (480, 626), (300, 628), (190, 612)),
    ]
    canvas.piece(at(crown), fabric(green, "twill"), shade=0.5, radius=40)
    opening = [*curve((222, 616), (226, 560), (318, 556), (324, 620))]
    canvas.piece(at(opening), fabric(tint(green, 0.42), "twill"), shade=0.3, radius=10)
    canvas.piece(
        at([(214, 598), (330, 600), (330, 616), (214, 614)]),
        fabric(tint(green, 0.85), "twill"),
        shade=0.4,
        radius=4,
    )
    canvas.piece(
        at([(254, 594), (284, 594), (284, 620), (254, 620)]),
        fabric((196, 196, 188)),
        shade=0.5,
        radius=4,
    )
    for seam in (
        curve((410, 332), (372, 380), (340, 480), (336, 620)),
        curve((410, 332), (458, 372), (500, 460), (508, 606)),
    ):
        canvas.stroke(at(seam), tint(green, 0.62), 2.5)
        canvas.stroke(at(offset(seam, 8)), tint(green, 1.3), 1.4, dash=(6, 5))
        canvas.stroke(at(offset(seam, -8)), tint(green, 1.3), 1.4, dash=(6, 5))
    for x, y in ((318, 416), (468, 414)):
        canvas.piece(at(ellipse(x, y, 7, 7)), fabric(tint(green, 0.5)), shade=0.6, radius=2)
    canvas.stroke(at(ellipse(548, 486, 18, 20)), (236, 228, 206), 3)
    canvas.stroke(at([(540, 496), (548, 478), (556, 496)]), (236, 228, 206), 3)
    canvas.fold(
        at(curve((250, 470), (290, 390), (340, 358), (400, 350))), dark=False, strength=70, width=30
    )
    canvas.fold(at(curve((200, 598), (300, 614), (480, 612), (588, 590))), strength=80, width=14)
    top = curve((560, 586), (640, 580), (730, 606), (772, 648), 48)
    under = curve((566, 628), (630, 640), (700, 660), (752, 672), 48)
    brim = [*top, *curve((772, 648), (776, 662), (768, 672), (752, 672), 8), *reversed(under)]
    canvas.piece(at(brim), fabric(tint(green, 0.92), "twill"), shade=0.45, radius=10)
    for t in (0.22, 0.42, 0.62):
        canvas.stroke(at(lerp_lines(top, under, t)[4:-2]), tint(green, 1.3), 1.4, dash=(6, 5))
    canvas.piece(
        at(ellipse(410, 328, 22, 9)), fabric(tint(green, 0.9), "twill"), shade=0.6, radius=5
    )
    return canvas


def sunglasses() -> Canvas:
    canvas = Canvas((243, 237, 230))
    frame = tortoise(seed=3)
    lens_color = gradient((34, 44, 42), (86, 98, 92))
    right_frame = [
        *curve((426, 440), (500, 420), (600, 410), (690, 412)),
        *curve((690, 412), (694, 480), (680, 560), (640, 588)),
        *curve((640, 588), (580, 612), (480, 606), (448, 570)),
        *curve((448, 570), (432, 540), (426, 500), (426, 440)),
    ]
    bridge = [
        *curve((436, 444), (420, 424), (380, 424), (364, 444)),
        (364, 468),
        *curve((364, 468), (380, 450), (420, 450), (436, 468)),
    ]
    canvas.piece(bridge, frame, shade=0.5, radius=6)
    for side in (lambda p: p, mirror):
        canvas.piece(
            side([(684, 414), (728, 420), (728, 440), (688, 446)]),
            fabric(tint((120, 70, 30), 0.8)),
            shade=0.5,
            radius=6,
        )
        canvas.piece(side(right_frame), frame, shade=0.5, radius=14)
        lens = shrink(right_frame, 24)
        canvas.piece(side(lens), lens_color, shade=0.4, radius=30)
        canvas.stroke(side(lens), (30, 16, 8), 2, alpha=160)
        canvas.fold(side([(480, 470), (560, 450)]), dark=False, strength=90, width=12)
        canvas.fold(side([(500, 520), (600, 490)]), dark=False, strength=45, width=22)
        canvas.piece(side(ellipse(668, 436, 6, 4)), fabric((214, 214, 220)), shade=0.5, radius=2)
        canvas.piece(side(ellipse(656, 436, 6, 4)), fabric((214, 214, 220)), shade=0.5, radius=2)
    canvas.fold(
        curve((440, 430), (520, 420), (600, 414), (670, 418)), dark=False, strength=80, width=6
    )
    canvas.fold(
        mirror(curve((440, 430), (520, 420), (600, 414), (670, 418))),
        dark=False,
        strength=80,
        width=6,
    )
    return canvas


GARMENTS: dict[str, Callable[[], Canvas]] = {
    "tee": tee,
    "breton": breton,
    "dress": dress,
    "hoodie": hoodie,
    "jacket": jacket,
    "trousers": trousers,
    "cap": cap,
    "sunglasses": sunglasses,
}


def save(image: Image.Image, path: Path) -> int:
    """Save as true colour if small enough, else with the fewest palette cuts that fit."""
    image.save(path, optimize=True)
    for colors in (256, 192, 128):
        if path.stat().st_size <= MAX_BYTES:
            break
        image.quantize(colors, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path.name} is {size} bytes, over {MAX_BYTES}: simplify its texture.")
    return size


def main(names: Sequence[str] = ()) -> None:
    for name in names or GARMENTS:
        path = HERE / f"{name}.png"
        size = save(GARMENTS[name]().render(), path)
        print(f"{path.name}: {size // 1024} KB")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
