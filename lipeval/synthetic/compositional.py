"""Compositional and image-to-image sets of the synthetic suite, in ARO, SugarCrepe and GPR1200 formats.

Written from the test scenes after the COCO set exists (its val2014 images are reused byte for byte):

    aro/visual_genome_relation.json     relation swaps: "the red circle is left of the blue square" vs
                                        "the blue square is left of the red circle"; box = the two objects
    aro/visual_genome_attribution.json  attribute swaps: "the blue square and the red circle" vs
                                        "the red square and the blue circle"; pair key = the two colours
    aro/images/<id>.jpg                 one image per test scene
    coco/aro_order_perturbations.json   the four order perturbations of every short test caption, tagged
                                        with the world's own vocabulary (so the Order task needs no spaCy)
    coco/val2017/<id:012d>.jpg          the test images under COCO val2017 names (SugarCrepe's image folder)
    sugarcrepe/<subset>.json            the seven SugarCrepe subsets: added absent objects and attributes,
                                        replaced attributes, objects and relations, swapped attributes and
                                        objects; ids are scene positions, so a subset skipping scenes has
                                        non-contiguous keys like the real swap_obj
    gpr1200/images/<cat>_<name>.jpg     ten renderings of one object configuration per category under
                                        position and texture jitter; the six GPR1200 domains (category ids
                                        0-199, 200-399, ...) are the six background kinds

Every negative caption is false for its scene: a described object is absent, or a relation does not hold.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from lipeval.synthetic import writers
from lipeval.synthetic.captions import article
from lipeval.synthetic.render import render
from lipeval.synthetic.world import (BACKGROUNDS, COLOURS, SHAPES, SIZES, Scene, SceneObject, cell_row_col,
                                     sample_scenes)

GPR_DOMAIN_SIZE = 200  # category ids per GPR1200 domain
GPR_RENDERINGS = 10
OPPOSITE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}

# The world's own part-of-speech convention for the Order perturbations (Penn Treebank tags).
_NOUNS = frozenset(SHAPES) | {"shape", "image", "background", "grass", "sky", "top", "bottom", "middle",
                              "centre", "left", "right"}
_ADJECTIVES = frozenset(COLOURS) | frozenset(SIZES) | {"plain", "striped", "checked", "dotted"}
_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Words and punctuation marks, the way the synthetic captions are built."""
    return _TOKEN.findall(text)


def tag(text: str) -> list[tuple[str, str]]:
    """Tokens with NN for nouns, JJ for adjectives and XX otherwise, from the world's vocabulary."""
    out = []
    for tok in tokenize(text):
        low = tok.lower()
        out.append((tok, "NN" if low in _NOUNS else "JJ" if low in _ADJECTIVES else "XX"))
    return out


def _name(o: SceneObject) -> str:
    return f"{o.colour} {o.shape}"


def _pixels(o: SceneObject, size: int) -> tuple[float, float, float, float]:
    return ((o.cx - o.radius) * size, (o.cy - o.radius) * size, (o.cx + o.radius) * size, (o.cy + o.radius) * size)


def pair_box(a: SceneObject, b: SceneObject, size: int, pad: int = 3) -> dict:
    """A square box (VG's bbox_x/y/w/h, integer pixels) around both objects, kept inside the image."""
    boxes = [_pixels(a, size), _pixels(b, size)]
    x0, y0 = min(x[0] for x in boxes) - pad, min(x[1] for x in boxes) - pad
    x1, y1 = max(x[2] for x in boxes) + pad, max(x[3] for x in boxes) + pad
    side = min(size, int(np.ceil(max(x1 - x0, y1 - y0))))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(min(max(round(cx - side / 2), 0), size - side))
    top = int(min(max(round(cy - side / 2), 0), size - side))
    return {"bbox_x": left, "bbox_y": top, "bbox_w": side, "bbox_h": side}


def _present(scene: Scene) -> set[tuple[str, str]]:
    return {(o.colour, o.shape) for o in scene.objects}


def vg_items(scenes: list[Scene], size: int) -> tuple[list[dict], list[dict]]:
    """VG-Relation and VG-Attribution items (official keys) for the scenes; images `<id:06d>.jpg`."""
    relation, attribution = [], []
    for s in scenes:
        image = f"{s.id:06d}.jpg"
        objs = s.objects
        for i, rel, j in s.relations:
            a, b = objs[i], objs[j]
            relation.append({"image_path": image, **pair_box(a, b, size), "relation_name": rel,
                             "true_caption": f"the {_name(a)} is {rel} the {_name(b)}",
                             "false_caption": f"the {_name(b)} is {rel} the {_name(a)}"})
        present = _present(s)
        for i in range(len(objs)):
            for j in range(i + 1, len(objs)):
                a, b = sorted((objs[i], objs[j]), key=lambda o: o.colour)
                if a.colour == b.colour or {(b.colour, a.shape), (a.colour, b.shape)} <= present:
                    continue  # no swap, or the swapped objects are in the scene too
                attribution.append({"image_path": image, **pair_box(a, b, size), "attributes": [a.colour, b.colour],
                                    "true_caption": f"the {_name(a)} and the {_name(b)}",
                                    "false_caption": f"the {b.colour} {a.shape} and the {a.colour} {b.shape}"})
    return relation, attribution


def _absent(rng: np.random.Generator, present: set, colour: str | None = None, shape: str | None = None):
    """A (colour, shape) not in the scene, keeping whichever of colour / shape is given."""
    choices = [(c, s) for c in (COLOURS if colour is None else [colour]) for s in (SHAPES if shape is None else [shape])
               if (c, s) not in present]
    return choices[int(rng.integers(len(choices)))]


def _a(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def sugarcrepe_items(scenes: list[Scene], rng: np.random.Generator) -> dict[str, dict[str, dict]]:
    """The seven subsets: {subset: {id: {filename, caption, negative_caption}}} (ids = scene positions)."""
    out: dict[str, dict[str, dict]] = {k: {} for k in ("add_att", "add_obj", "replace_att", "replace_obj",
                                                       "replace_rel", "swap_att", "swap_obj")}
    for k, s in enumerate(scenes):
        key, file = str(k), f"{s.id:012d}.jpg"
        m, present, bg = s.main, _present(s), f"{s.background} background"
        other = s.objects[1] if len(s.objects) > 1 else None
        tail = f" and {_a(_name(other))}" if other else f" on {_a(bg)}"

        def put(subset: str, pos: str, neg: str) -> None:
            out[subset][key] = {"filename": file, "caption": pos, "negative_caption": neg}

        c, _ = _absent(rng, present, shape=m.shape)
        put("replace_att", _a(_name(m)) + tail, _a(f"{c} {m.shape}") + tail)
        _, sh = _absent(rng, present, colour=m.colour)
        put("replace_obj", _a(_name(m)) + tail, _a(f"{m.colour} {sh}") + tail)
        c, sh = _absent(rng, present)
        put("add_obj", _a(_name(m)) + tail, f"{_a(_name(m))}{tail} and {_a(f'{c} {sh}')}")
        if other:
            c, _ = _absent(rng, present, shape=other.shape)
            put("add_att", f"{_a(_name(m))} and {_a(other.shape)}", f"{_a(_name(m))} and {_a(f'{c} {other.shape}')}")
            if m.colour != other.colour and not {(other.colour, m.shape), (m.colour, other.shape)} <= present:
                put("swap_att", f"{_a(_name(m))} and {_a(_name(other))}",
                    f"{_a(f'{other.colour} {m.shape}')} and {_a(f'{m.colour} {other.shape}')}")
            put("swap_obj", f"{_a(_name(m))} in the {m.cell} and {_a(_name(other))} in the {other.cell}",
                f"{_a(_name(other))} in the {m.cell} and {_a(_name(m))} in the {other.cell}")
        else:
            c, _ = _absent(rng, present, shape=m.shape)
            put("add_att", f"{_a(m.shape)} on {_a(bg)}", f"{_a(f'{c} {m.shape}')} on {_a(bg)}")
        rels = [(i, r, j) for i, r, j in s.relations if i == 0]
        if rels:
            _, r, j = rels[int(rng.integers(len(rels)))]
            b = s.objects[j]
            put("replace_rel", f"the {_name(m)} is {r} the {_name(b)}",
                f"the {_name(m)} is {OPPOSITE[r]} the {_name(b)}")
    return out


def jittered(scene: Scene, rng: np.random.Generator) -> Scene:
    """The same configuration (objects with their cells, background kind) at new positions within the cells,
    with background tones shifted by up to 16 per channel, pattern periods by up to 10 % and a new texture."""
    objs = []
    for o in scene.objects:
        row, col = cell_row_col(o.cell)
        slack = max(1 / 6 - o.radius - 0.5 / 64, 0.0)
        objs.append(dataclasses.replace(o, cx=(col + 0.5) / 3 + float(rng.uniform(-slack, slack)),
                                        cy=(row + 0.5) / 3 + float(rng.uniform(-slack, slack))))
    params = dict(scene.background_params)
    if "colours" in params:
        params["colours"] = [[int(np.clip(v + rng.integers(-16, 17), 0, 255)) for v in c] for c in params["colours"]]
    if "period" in params:
        params["period"] = float(params["period"] * rng.uniform(0.9, 1.1))
    return dataclasses.replace(scene, objects=tuple(objs), background_params=params, seed=int(rng.integers(2**31)))


def write_gpr1200(out: Path, n_test: int, image_size: int, seed: int) -> None:
    """gpr1200/images/: per domain (= background kind) n configurations x 10 jittered renderings."""
    per_domain = min(GPR_DOMAIN_SIZE, max(2, n_test // 40))
    rng = np.random.default_rng([seed, 12])
    base = sample_scenes(rng, per_domain * len(BACKGROUNDS))
    for d, kind in enumerate(BACKGROUNDS):
        of_kind = [s for s in base if s.background == kind][:per_domain]
        for k, scene in enumerate(of_kind):
            cat = d * GPR_DOMAIN_SIZE + k
            for r in range(GPR_RENDERINGS):
                image, _ = render(jittered(scene, rng), image_size)
                writers.write_bytes(out / "images" / f"{cat}_{kind}{k:03d}_{r}.jpg", writers.encode_jpeg(image))


def write_order_perturbations(coco_dir: Path) -> None:
    """aro_order_perturbations.json for the COCO test captions, as the Order reader would read them."""
    from lipeval.datasets.coco import read_coco_karpathy
    from lipeval.datasets.order_perturbations import MAX_WORDS, SEED, generate_options, perturbation_file_text

    data = read_coco_karpathy(coco_dir)
    options = generate_options(data.texts, tag, tokenize, SEED, MAX_WORDS)
    images = [data.images.ids[i] for i in data.text_image]
    text = perturbation_file_text(images, data.texts, options, Path(data.source).name, SEED, MAX_WORDS,
                                  {"tagger": "lipeval.synthetic vocabulary", "tokenizer": "lipeval.synthetic"})
    (coco_dir / "aro_order_perturbations.json").write_text(text, encoding="utf-8")


def write_compositional(suite: Path, scenes: dict[str, list[Scene]], image_size: int, seed: int) -> None:
    """The FORMAT_WRITERS hook: ARO, SugarCrepe, Order perturbations and GPR1200 from the test scenes."""
    test = scenes["test"]
    val2014 = suite / "coco" / "val2014"
    for s in test:
        data = (val2014 / writers.coco_image_name("val", s.id)).read_bytes()
        writers.write_bytes(suite / "aro" / "images" / f"{s.id:06d}.jpg", data)
        writers.write_bytes(suite / "coco" / "val2017" / f"{s.id:012d}.jpg", data)
    relation, attribution = vg_items(test, image_size)
    writers.write_json(suite / "aro" / "visual_genome_relation.json", relation)
    writers.write_json(suite / "aro" / "visual_genome_attribution.json", attribution)
    for subset, items in sugarcrepe_items(test, np.random.default_rng([seed, 11])).items():
        # keys in scene order, fields in the official order (write_json would sort them)
        text = json.dumps(items, indent=1, ensure_ascii=True) + "\n"
        writers.write_bytes(suite / "sugarcrepe" / f"{subset}.json", text.encode("utf-8"))
    write_order_perturbations(suite / "coco")
    write_gpr1200(suite / "gpr1200", len(test), image_size, seed)
