"""Scene sampling for the synthetic world: vocabulary, the `Scene` record and a seeded sampler.

Pure Python and numpy; every random choice comes from the `numpy.random.Generator` passed in,
so a seed fixes the world. Geometry is kept in fractions of the image side, so the same scene
renders at any image size.

A scene has one background and 1-4 objects, one per cell of a 3x3 grid, never overlapping.
Object 0 is the main object: it is always drawn largest, and the short captions and the
class-folder labels describe only it. The main object's shape, colour and size, its cell and
the background kind are balanced in blocks (each block of consecutive scenes is a permutation
of the values), so every prefix of a split has near-equal class counts and no class is empty.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "ring", "diamond", "hexagon")

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 40, 40),
    "orange": (245, 135, 20),
    "yellow": (245, 215, 35),
    "green": (35, 175, 65),
    "blue": (35, 75, 215),
    "purple": (135, 55, 185),
    "pink": (245, 125, 190),
    "black": (20, 20, 20),
}

SIZES: tuple[str, ...] = ("small", "large")

# Row-major 3x3 grid: cell index = 3 * row + column, row 0 at the top.
CELLS: tuple[str, ...] = (
    "top left", "top centre", "top right",
    "middle left", "centre", "middle right",
    "bottom left", "bottom centre", "bottom right",
)

BACKGROUNDS: tuple[str, ...] = ("plain", "striped", "checked", "dotted", "grass", "sky")

RELATIONS: tuple[str, ...] = ("left of", "right of", "above", "below")

# Muted mid-tone colours for plain, striped, checked and dotted backgrounds: far enough from
# every object colour (including black and yellow) that objects stay the salient thing.
BACKGROUND_TONES: tuple[tuple[int, int, int], ...] = (
    (170, 170, 170), (205, 190, 160), (120, 130, 140),
    (160, 178, 160), (192, 170, 176), (140, 150, 178),
)

STRIPE_ORIENTATIONS: tuple[str, ...] = ("horizontal", "vertical", "diagonal")

# Radii as fractions of the image side (64 px: main 10 / 7 px, other 8 / 5 px). A cell is
# 1/3 of the side, so even the largest object fits its cell with a little room to move.
MAIN_RADIUS = {"large": 10 / 64, "small": 7 / 64}
OTHER_RADIUS = {"large": 8 / 64, "small": 5 / 64}
MAX_OBJECTS = 4


@dataclass(frozen=True)
class SceneObject:
    """One shape: its attributes and where it is drawn (centre and radius in image fractions)."""

    shape: str
    colour: str
    size: str
    cell: str
    cx: float
    cy: float
    radius: float

    def attributes(self) -> dict:
        return {"shape": self.shape, "colour": self.colour, "size": self.size, "cell": self.cell}


@dataclass(frozen=True)
class Scene:
    """A sampled scene. `seed` drives the renderer's texture noise and the caption wording."""

    id: int
    background: str
    background_params: dict
    objects: tuple[SceneObject, ...]
    seed: int
    relations: tuple[tuple[int, str, int], ...] = field(default=())

    @property
    def main(self) -> SceneObject:
        return self.objects[0]


def cell_row_col(cell: str) -> tuple[int, int]:
    """Grid row and column (0-2, row 0 at the top) of a cell name."""
    k = CELLS.index(cell)
    return k // 3, k % 3


def relations_between(a: str, b: str) -> list[str]:
    """Relations that hold for an object in cell `a` relative to one in cell `b`."""
    ra, ca = cell_row_col(a)
    rb, cb = cell_row_col(b)
    out = []
    if ca < cb:
        out.append("left of")
    if ca > cb:
        out.append("right of")
    if ra < rb:
        out.append("above")
    if ra > rb:
        out.append("below")
    return out


def scene_relations(objects) -> tuple[tuple[int, str, int], ...]:
    """Every relation of object i to object j for i < j, in pair order."""
    rels = []
    for i in range(len(objects)):
        for j in range(i + 1, len(objects)):
            rels.extend((i, r, j) for r in relations_between(objects[i].cell, objects[j].cell))
    return tuple(rels)


def _balanced(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n indices in [0, k): consecutive blocks of k are random permutations of range(k)."""
    blocks = -(-n // k)
    return np.concatenate([rng.permutation(k) for _ in range(blocks)])[:n] if n else np.zeros(0, int)


def _background_params(rng: np.random.Generator, kind: str) -> dict:
    tones = rng.choice(len(BACKGROUND_TONES), size=2, replace=False)
    a, b = (list(BACKGROUND_TONES[int(t)]) for t in tones)
    if kind == "plain":
        return {"colours": [a]}
    if kind == "striped":
        return {"colours": [a, b], "orientation": STRIPE_ORIENTATIONS[int(rng.integers(3))],
                "period": float(rng.uniform(6, 11) / 64)}
    if kind == "checked":
        return {"colours": [a, b], "period": float(rng.uniform(5, 10) / 64)}
    if kind == "dotted":
        return {"colours": [a, b], "period": float(rng.uniform(7, 11) / 64),
                "dot": float(rng.uniform(1.3, 2.0) / 64)}
    return {}  # grass and sky: fixed palettes, texture from the scene seed


def _place(rng: np.random.Generator, cell: str, radius: float) -> tuple[float, float]:
    """A centre inside `cell` that keeps a circle of `radius` (plus a margin) within it."""
    row, col = cell_row_col(cell)
    slack = max(1 / 6 - radius - 0.5 / 64, 0.0)
    cx = (col + 0.5) / 3 + float(rng.uniform(-slack, slack))
    cy = (row + 0.5) / 3 + float(rng.uniform(-slack, slack))
    return cx, cy


def sample_scenes(rng: np.random.Generator, n: int, first_id: int = 1) -> list[Scene]:
    """Sample `n` scenes with ids first_id, first_id + 1, ...

    Main-object shape, colour, size and cell, and the background kind are block-balanced; the
    number of objects is uniform on 1-4; the other objects take random free cells, are never
    larger than the main object, and no two objects share both colour and shape (so "the red
    circle" names one object in the long caption).
    """
    shapes = _balanced(rng, n, len(SHAPES))
    colours = _balanced(rng, n, len(COLOURS))
    sizes = _balanced(rng, n, len(SIZES))
    cells = _balanced(rng, n, len(CELLS))
    backgrounds = _balanced(rng, n, len(BACKGROUNDS))
    colour_names = list(COLOURS)
    scenes = []
    for i in range(n):
        n_obj = int(rng.integers(1, MAX_OBJECTS + 1))
        main_size = SIZES[sizes[i]]
        main_cell = CELLS[cells[i]]
        free = [c for c in CELLS if c != main_cell]
        other_cells = [free[int(k)] for k in rng.choice(len(free), size=n_obj - 1, replace=False)]
        used = {(SHAPES[shapes[i]], colour_names[colours[i]])}
        cx, cy = _place(rng, main_cell, MAIN_RADIUS[main_size])
        objects = [SceneObject(SHAPES[shapes[i]], colour_names[colours[i]], main_size, main_cell,
                               cx, cy, MAIN_RADIUS[main_size])]
        for cell in other_cells:
            while True:
                pair = (SHAPES[int(rng.integers(len(SHAPES)))], colour_names[int(rng.integers(len(COLOURS)))])
                if pair not in used:
                    break
            used.add(pair)
            size = SIZES[int(rng.integers(2))] if main_size == "large" else "small"
            cx, cy = _place(rng, cell, OTHER_RADIUS[size])
            objects.append(SceneObject(pair[0], pair[1], size, cell, cx, cy, OTHER_RADIUS[size]))
        kind = BACKGROUNDS[backgrounds[i]]
        params = _background_params(rng, kind)
        seed = int(rng.integers(2**31))
        scenes.append(Scene(id=first_id + i, background=kind, background_params=params,
                            objects=tuple(objects), seed=seed, relations=scene_relations(objects)))
    return scenes
