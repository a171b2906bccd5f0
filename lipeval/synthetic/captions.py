"""Captions for a scene: five short alt-text-like ones about the main object, and one long one.

Short captions name only the main object (object 0). Each of the five uses a different set of
its attributes, so that strict index-based retrieval with short captions is not mostly
ambiguous while no caption describes the rest of the scene:

    1. colour + shape                  "a red circle", "image of a large red circle"
    2. colour + shape + cell           "red circle in the top left"
    3. size + colour + shape + cell    "a large red circle in the top left"
    4. colour + shape + background     "a red circle on a striped background"
    5. colour + shape + cell + background   "red circle, top left, sky background"

Slots 1, 4 and 5 add the size half of the time. On the default test set (1,000 images) a
model that matched attributes perfectly would reach a strict R@1 of about 0.5 with these;
with colour + shape alone the ceiling would be about 0.06.

The wording of each slot is drawn from a few frames, so fewer captions are exact duplicates.

The long caption has `long_caption_sentences(n)` = 2 + n + n(n-1)/2 sentences for n objects:
one on the object count, one per object (size, colour, shape, cell; main object first), one
per object pair stating every relation that holds between them, and one on the background
(with detail the short captions lack, such as stripe direction), joined with ". ". That is
3 / 5 / 8 / 12 sentences for 1-4 objects, 7 on average.
"""
from __future__ import annotations

import numpy as np

from lipeval.synthetic.world import Scene, SceneObject, relations_between

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}

def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def _bg_phrase(kind: str) -> str:
    return f"{kind} background"


def _short(obj: str, cell: str | None, bg: str | None, rng: np.random.Generator) -> str:
    """One alt-text-like phrase about `obj` ("red circle"), optionally with its cell and background."""
    a_obj = _with_article(obj)
    if cell and bg:
        frames = [f"{a_obj} in the {cell} on {_with_article(bg)}", f"{obj}, {cell}, {bg}",
                  f"{obj} in the {cell} against {_with_article(bg)}"]
    elif cell:
        frames = [f"{a_obj} in the {cell}", f"{obj} in the {cell}", f"{obj}, {cell}", f"{a_obj} placed in the {cell}"]
    elif bg:
        frames = [f"{a_obj} on {_with_article(bg)}", f"{obj} on {_with_article(bg)}",
                  f"{obj} against {_with_article(bg)}", f"{a_obj} with {_with_article(bg)}"]
    else:
        frames = [a_obj, obj, f"{a_obj} shape", f"image of {a_obj}"]
    return frames[int(rng.integers(len(frames)))]


def short_captions(scene: Scene, rng: np.random.Generator) -> list[str]:
    """Five short captions that paraphrase the main object only (see the module docstring)."""
    m = scene.main
    cs, scs = f"{m.colour} {m.shape}", f"{m.size} {m.colour} {m.shape}"
    bg = _bg_phrase(scene.background)

    def maybe_sized() -> str:
        return scs if rng.integers(2) else cs

    return [
        _short(maybe_sized(), None, None, rng),
        _short(cs, m.cell, None, rng),
        _short(scs, m.cell, None, rng),
        _short(maybe_sized(), None, bg, rng),
        _short(maybe_sized(), m.cell, bg, rng),
    ]


def _object_sentence(obj: SceneObject, rng: np.random.Generator) -> str:
    d = f"{obj.size} {obj.colour} {obj.shape}"
    frames = [f"{_with_article(d).capitalize()} in the {obj.cell}",
              f"{_with_article(d).capitalize()} is in the {obj.cell}",
              f"There is {_with_article(d)} in the {obj.cell}"]
    return frames[int(rng.integers(len(frames)))]


def _background_sentence(scene: Scene) -> str:
    """Names the background kind, plus stripe direction for striped ones (long captions only)."""
    kind, p = scene.background, scene.background_params
    if kind == "plain":
        return "The background is a plain colour"
    if kind == "striped":
        return f"The background is striped {p['orientation']}ly"
    if kind == "checked":
        return "The background is a checked pattern"
    if kind == "dotted":
        return "The background is a dotted pattern"
    if kind == "grass":
        return "The background is grass"
    return "The background is a sky gradient"


def long_caption_sentences(n_objects: int) -> int:
    """Number of sentences in the long caption of a scene with `n_objects` objects."""
    return 2 + n_objects + n_objects * (n_objects - 1) // 2


def long_caption(scene: Scene, rng: np.random.Generator) -> str:
    """Every object, every relation between object pairs, and the background, in sentences."""
    objs = scene.objects
    n = len(objs)
    sentences = [f"There {'are' if n > 1 else 'is'} {NUMBER_WORDS[n]} shape{'s' if n > 1 else ''}"]
    sentences += [_object_sentence(o, rng) for o in objs]
    for i in range(n):
        for j in range(i + 1, n):
            rels = relations_between(objs[i].cell, objs[j].cell)
            sentences.append(f"The {objs[i].colour} {objs[i].shape} is {' and '.join(rels)} "
                             f"the {objs[j].colour} {objs[j].shape}")
    sentences.append(_background_sentence(scene))
    return ". ".join(sentences) + "."


def scene_captions(scene: Scene) -> tuple[list[str], str]:
    """The five short captions and the long caption of `scene`, worded from its own seed."""
    rng = np.random.default_rng([scene.seed, 1])
    return short_captions(scene, rng), long_caption(scene, rng)
