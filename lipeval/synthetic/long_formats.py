"""The synthetic world's long captions in the long-text retrieval formats (DCI, IIW, ShareGPT4V, Urban-1k).

Registered in `lipeval.synthetic.FORMAT_WRITERS`; writes, from the test scenes, under the suite:

    long/dci/densely_captioned_images/{splits.json, annotations/sa_<id>.json, photos/sa_<id>.jpg}
    long/iiw/{DOCCI_Test,IIW-400,DCI_Test}/data.jsonl + long/iiw/{docci,docci_aar,dci}/<image>
    long/sharegpt4v/sharegpt4v_synthetic.json + long/sharegpt4v/sam/images/sa_<id>.jpg
    long/urban1k/{caption/<id>.txt, image/<id>.jpg}
    long/lipeval_synthetic.json   a copy of the suite marker (see write_long_formats)

Each set reuses the bytes of the test images (the COCO val2014 files). The text of every set is
the scene's long caption (every object, every relation and the background), laid out as the
format does: DCI as short caption + newline + extra caption (the scene's first short caption,
then the long caption), IIW in the `IIW` field, ShareGPT4V as paragraphs separated by blank
lines, Urban-1k as one line. The quirks the readers handle appear here as in the real data:
DCI splits concatenated in key order (train, valid, test), IIW-400 names in `image/key`
without ".jpg", DOCCI_Test records carrying an unused `DOCCI` field, and IIW's DCI_Test images
being DCI's test-split images (the two sets overlap, with different text).

Sizes for n test scenes: DCI and ShareGPT4V and Urban-1k use all n; IIW uses
DOCCI_Test = the first 15 %, IIW-400 = the next 55 %, DCI_Test = DCI's test split (last 15 %).
"""
from __future__ import annotations

import json
from pathlib import Path

from lipeval.synthetic import writers
from lipeval.synthetic.captions import scene_captions
from lipeval.synthetic.world import Scene
from lipeval.text_preprocessing import split_sentences

LONG_DIR = "long"
SHAREGPT4V_FILE = "sharegpt4v_synthetic.json"
HUMAN_PROMPT = "<image>\nDescribe this picture in full detail."


def _part(n: int, fraction: float) -> int:
    return max(1, round(n * fraction)) if n else 0


def _image_bytes(suite: Path, scene: Scene) -> bytes:
    return (suite / "coco" / "val2014" / writers.coco_image_name("val", scene.id)).read_bytes()


def _paragraphs(scene: Scene, long: str) -> str:
    """The long caption as ShareGPT4V-style paragraphs: count + objects, relations, background."""
    sentences = [s + "." for s in split_sentences(long)]
    n = len(scene.objects)
    groups = [sentences[:1 + n], sentences[1 + n:-1], sentences[-1:]]
    return "\n\n".join(" ".join(g) for g in groups if g)


def _write_dci(root: Path, scenes: list[Scene], texts: dict, images: dict) -> list[Scene]:
    base = root / "densely_captioned_images"
    n = len(scenes)
    n_test, n_valid = _part(n, 0.15), _part(n, 0.05)
    n_train = max(0, n - n_test - n_valid)
    parts = {"train": scenes[:n_train], "valid": scenes[n_train:n_train + n_valid],
             "test": scenes[n_train + n_valid:]}
    splits = {}
    for split, members in parts.items():
        splits[split] = [f"sa_{s.id}.json" for s in members]
        for s in members:
            short, long = texts[s.id]
            writers.write_json(base / "annotations" / f"sa_{s.id}.json", {
                "image": f"sa_{s.id}.jpg", "short_caption": short[0], "extra_caption": long,
                "mask_data": {}, "mask_keys": [],
            })
            writers.write_bytes(base / "photos" / f"sa_{s.id}.jpg", images[s.id])
    # key order matters (the reader concatenates the splits in file order): no sorting here
    (base / "splits.json").write_text(json.dumps(splits, ensure_ascii=True) + "\n", encoding="utf-8")
    return parts["test"]


def _write_iiw(root: Path, scenes: list[Scene], dci_test: list[Scene], texts: dict, images: dict) -> None:
    n = len(scenes)
    n_docci, n_aar = _part(n, 0.15), _part(n, 0.55)
    docci, aar = scenes[:n_docci], scenes[n_docci:n_docci + n_aar]
    rows = {
        "DOCCI_Test": [{"IIW": texts[s.id][1], "DOCCI": texts[s.id][0][0], "ex_id": f"test_{s.id:05d}",
                        "image": f"test_{s.id:05d}.jpg"} for s in docci],
        "IIW-400": [{"IIW": texts[s.id][1], "image/key": f"aar_test_{s.id:05d}"} for s in aar],
        "DCI_Test": [{"IIW": texts[s.id][1], "ex_id": f"{s.id}-data.json", "image": f"sa_{s.id}.jpg"}
                     for s in dci_test],
    }
    names = {"DOCCI_Test": ("docci", docci, "test_{:05d}.jpg"), "IIW-400": ("docci_aar", aar, "aar_test_{:05d}.jpg"),
             "DCI_Test": ("dci", dci_test, "sa_{}.jpg")}
    for subset, records in rows.items():
        writers.write_jsonl(root / subset / "data.jsonl", records)
        folder, members, pattern = names[subset]
        for s in members:
            writers.write_bytes(root / folder / pattern.format(s.id), images[s.id])


def _write_sharegpt4v(root: Path, scenes: list[Scene], texts: dict, images: dict) -> None:
    records = []
    for s in scenes:
        rel = f"sam/images/sa_{s.id}.jpg"
        writers.write_bytes(root / rel, images[s.id])
        records.append({"id": f"sa_{s.id}", "image": rel, "conversations": [
            {"from": "human", "value": HUMAN_PROMPT},
            {"from": "gpt", "value": _paragraphs(s, texts[s.id][1])},
        ]})
    writers.write_json(root / SHAREGPT4V_FILE, records)


def _write_urban1k(root: Path, scenes: list[Scene], texts: dict, images: dict) -> None:
    for s in scenes:
        writers.write_bytes(root / "image" / f"{s.id}.jpg", images[s.id])
        (root / "caption").mkdir(parents=True, exist_ok=True)
        (root / "caption" / f"{s.id}.txt").write_text(texts[s.id][1] + "\n", encoding="utf-8")


def write_long_formats(suite: Path, scenes_by_split: dict[str, list[Scene]], image_size: int, seed: int) -> None:
    """Write the long-text sets from the test scenes (see the module docstring)."""
    scenes = scenes_by_split["test"]
    texts = {s.id: scene_captions(s) for s in scenes}
    images = {s.id: _image_bytes(suite, s) for s in scenes}
    root = suite / LONG_DIR
    from lipeval.synthetic import MARKER  # (not at import time: that module imports this one)

    # These folders carry the real benchmarks' folder names (dci/, iiw/, ...): a marker here makes a
    # data root pointed at long/ still refuse to run the real tasks on synthetic files.
    writers.write_json(root / MARKER, {"generator": "lipeval.synthetic", "part": LONG_DIR,
                                       "suite_marker": f"../{MARKER}"})
    dci_test = _write_dci(root / "dci", scenes, texts, images)
    _write_iiw(root / "iiw", scenes, dci_test, texts, images)
    _write_sharegpt4v(root / "sharegpt4v", scenes, texts, images)
    _write_urban1k(root / "urban1k", scenes, texts, images)
