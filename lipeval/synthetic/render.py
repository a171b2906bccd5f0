"""Render a `Scene` to an RGB image and a per-pixel class map.

The background is computed with numpy at the output size; shapes are drawn with PIL at 4x
supersampling on the upscaled background and box-downsampled, which gives smooth edges at
64 px. The class map (uint8: 0 = background, 1 + index in `SHAPES` for an object) is the
supersampled label drawing sampled at each output pixel's centre; it serves segmentation.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from lipeval.synthetic.world import COLOURS, SHAPES, Scene, SceneObject

SUPERSAMPLE = 4

GRASS_BASE = np.array([78, 122, 48], dtype=np.float32)
SKY_TOP = np.array([95, 155, 225], dtype=np.float32)
SKY_BOTTOM = np.array([215, 230, 245], dtype=np.float32)


def _two_tone(mask: np.ndarray, colours) -> np.ndarray:
    a, b = (np.array(c, dtype=np.float32) for c in colours)
    return np.where(mask[..., None], b, a)


def background_array(scene: Scene, size: int) -> np.ndarray:
    """The background of `scene` as a (size, size, 3) uint8 array."""
    kind, p = scene.background, scene.background_params
    rng = np.random.default_rng([scene.seed, 0])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    if kind == "plain":
        img = np.broadcast_to(np.array(p["colours"][0], dtype=np.float32), (size, size, 3))
    elif kind == "striped":
        period = p["period"] * size
        coord = {"horizontal": yy, "vertical": xx, "diagonal": (xx + yy) / math.sqrt(2)}[p["orientation"]]
        phase = rng.uniform(0, period)
        img = _two_tone(((coord + phase) % period) < period / 2, p["colours"])
    elif kind == "checked":
        period = p["period"] * size
        ox, oy = rng.uniform(0, 2 * period, size=2)
        img = _two_tone(((np.floor((xx + ox) / period) + np.floor((yy + oy) / period)) % 2) == 1, p["colours"])
    elif kind == "dotted":
        period = p["period"] * size
        ox, oy = rng.uniform(0, period, size=2)
        dx = (xx + ox) % period - period / 2
        dy = (yy + oy) % period - period / 2
        img = _two_tone(dx * dx + dy * dy <= (p["dot"] * size) ** 2, p["colours"])
    elif kind == "grass":
        # Vertical blades: noise that varies fast across x and slowly down y.
        blades = rng.normal(0, 1, size=(max(size // 3, 1), size)).astype(np.float32)
        blades = np.repeat(blades, 3, axis=0)[:size]
        if blades.shape[0] < size:
            blades = np.pad(blades, ((0, size - blades.shape[0]), (0, 0)), mode="edge")
        fine = rng.normal(0, 1, size=(size, size)).astype(np.float32)
        shade = 18 * blades + 8 * fine
        img = GRASS_BASE + shade[..., None] * np.array([0.6, 1.0, 0.4], dtype=np.float32)
    elif kind == "sky":
        t = (yy / size)[..., None]
        img = SKY_TOP * (1 - t) + SKY_BOTTOM * t + rng.normal(0, 2.5, size=(size, size, 1)).astype(np.float32)
    else:
        raise ValueError(f"unknown background kind {kind!r}")
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _regular(cx: float, cy: float, r: float, n: int, start_deg: float) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(math.radians(start_deg + 360 * k / n)),
             cy + r * math.sin(math.radians(start_deg + 360 * k / n))) for k in range(n)]


def _draw_shape(draw: ImageDraw.ImageDraw, obj: SceneObject, scale: float, fill) -> None:
    """Draw `obj` on a canvas of side `scale` pixels with a single fill value."""
    cx, cy, r = obj.cx * scale, obj.cy * scale, obj.radius * scale
    s = obj.shape
    if s == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif s == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=fill, width=max(1, round(0.42 * r)))
    elif s == "square":
        h = 0.82 * r
        draw.rectangle((cx - h, cy - h, cx + h, cy + h), fill=fill)
    elif s == "triangle":
        # Equilateral, pointing up, centred on its bounding box rather than its centroid.
        pts = _regular(cx, cy + 0.2 * r, 1.1 * r, 3, -90)
        draw.polygon(pts, fill=fill)
    elif s == "star":
        outer = _regular(cx, cy + 0.08 * r, 1.05 * r, 5, -90)
        inner = _regular(cx, cy + 0.08 * r, 0.45 * r, 5, -54)
        draw.polygon([p for pair in zip(outer, inner) for p in pair], fill=fill)
    elif s == "cross":
        w = 0.34 * r
        draw.rectangle((cx - r, cy - w, cx + r, cy + w), fill=fill)
        draw.rectangle((cx - w, cy - r, cx + w, cy + r), fill=fill)
    elif s == "diamond":
        draw.polygon([(cx, cy - r), (cx + 0.72 * r, cy), (cx, cy + r), (cx - 0.72 * r, cy)], fill=fill)
    elif s == "hexagon":
        draw.polygon(_regular(cx, cy, r, 6, 0), fill=fill)
    else:
        raise ValueError(f"unknown shape {s!r}")


def render(scene: Scene, size: int = 64) -> tuple[Image.Image, np.ndarray]:
    """Render `scene` at `size` x `size`: an RGB PIL image and a (size, size) uint8 class map."""
    big = size * SUPERSAMPLE
    bg = background_array(scene, size)
    canvas = Image.fromarray(np.repeat(np.repeat(bg, SUPERSAMPLE, axis=0), SUPERSAMPLE, axis=1), "RGB")
    labels = Image.new("L", (big, big), 0)
    draw, draw_labels = ImageDraw.Draw(canvas), ImageDraw.Draw(labels)
    for obj in scene.objects:
        _draw_shape(draw, obj, big, COLOURS[obj.colour])
        _draw_shape(draw_labels, obj, big, 1 + SHAPES.index(obj.shape))
    image = canvas.reduce(SUPERSAMPLE)
    off = SUPERSAMPLE // 2
    class_map = np.ascontiguousarray(np.asarray(labels)[off::SUPERSAMPLE, off::SUPERSAMPLE])
    return image, class_map
