"""ARO's VG-Relation and VG-Attribution (docs/protocols.md §E.1, §E.2): the official JSON files plus `images/`.

Each file is a JSON list of items `{"image_path", "bbox_x", "bbox_y", "bbox_w", "bbox_h", "true_caption",
"false_caption", ...}` with `relation_name` (VG-Relation) or `attributes` (a list of two, VG-Attribution).
The image is cropped to the box before the model transform; the options are `[false_caption, true_caption]`
(true at index 1), and the reference decides with `np.argmax`, so a tie counts as a miss.

Per-group accuracy: by `relation_name`, or by the pair key `f"{attributes[0]}_{attributes[1]}"`. The macro
accuracy leaves out the symmetric relations (the list shipped in `aro_symmetric_relations.json`, with its
source) or the attribute pairs with fewer than 25 cases.
"""
from __future__ import annotations

import numbers
from functools import lru_cache
from pathlib import Path

from lipeval.datasets.choice_records import ChoiceData, CroppedImages
from lipeval.datasets.files import read_json
from lipeval.datasets.records import require_dir, require_file
from lipeval.errors import DataError

RELATION_FILE = "visual_genome_relation.json"
ATTRIBUTION_FILE = "visual_genome_attribution.json"
LAYOUT = f"aro/{{{RELATION_FILE}, {ATTRIBUTION_FILE}}} + aro/images/"
BOX = ("bbox_x", "bbox_y", "bbox_w", "bbox_h")
ITEM_SHAPE = ('{"image_path": ..., "bbox_x": ..., "bbox_y": ..., "bbox_w": ..., "bbox_h": ..., '
              '"true_caption": ..., "false_caption": ..., "relation_name" | "attributes": ...}')
SYMMETRIC_FILE = Path(__file__).with_name("aro_symmetric_relations.json")


@lru_cache(maxsize=1)
def symmetric_relations() -> frozenset[str]:
    """The relations ARO's notebook removes before the VG-Relation macro mean (shipped data, source inside)."""
    return frozenset(read_json(SYMMETRIC_FILE, "a JSON object with the list 'relations'", top=dict)["relations"])


def _string(item: dict, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: field {key!r} must be a non-empty string, got {value!r}")
    return value


def _box(item: dict, where: str) -> tuple:
    values = []
    for key in BOX:
        v = item.get(key)
        if not isinstance(v, numbers.Real) or isinstance(v, bool):
            raise DataError(f"{where}: field {key!r} must be a number, got {v!r}")
        values.append(v)
    if values[2] <= 0 or values[3] <= 0:
        raise DataError(f"{where}: the box has width {values[2]} and height {values[3]}; both must be positive")
    return tuple(values)


def _group(item: dict, kind: str, where: str) -> str:
    if kind == "relation":
        return _string(item, "relation_name", where)
    attrs = item.get("attributes")
    if not (isinstance(attrs, list) and len(attrs) == 2 and all(isinstance(a, str) for a in attrs)):
        raise DataError(f"{where}: field 'attributes' must be a list of two strings, got {attrs!r}")
    return f"{attrs[0]}_{attrs[1]}"


def _read_vg(root: Path, annotation: str, images_dir: str, kind: str) -> ChoiceData:
    root = Path(root)
    path = require_file(root / annotation, f"the ARO file; expected layout {LAYOUT}")
    image_root = require_dir(root / images_dir, f"the ARO Visual Genome images; expected layout {LAYOUT}")
    data = read_json(path, f"a JSON list of items like {ITEM_SHAPE}", top=list)
    index: dict[tuple, int] = {}
    case_image, options, groups = [], [], []
    for k, item in enumerate(data):
        where = f"{path}: item [{k}]"
        if not isinstance(item, dict):
            raise DataError(f"{where} is a {type(item).__name__}, expected an object like {ITEM_SHAPE}")
        key = (_string(item, "image_path", where), _box(item, where))
        case_image.append(index.setdefault(key, len(index)))
        options.append([_string(item, "false_caption", where), _string(item, "true_caption", where)])
        groups.append(_group(item, kind, where))
    images = CroppedImages(image_root, [p for p, _ in index], [b for _, b in index])
    images.check_exist(str(path))
    return ChoiceData(images, case_image, options, [1] * len(options), groups=groups,
                      group_label=kind if kind == "relation" else "attribute_pair", reference_rule="argmax",
                      source=str(path))


def read_vg_relation(root: Path, annotation: str = RELATION_FILE, images_dir: str = "images",
                     exclude_symmetric: bool = True) -> ChoiceData:
    """VG-Relation; the macro accuracy leaves out the symmetric relations unless `exclude_symmetric=False`."""
    data = _read_vg(root, annotation, images_dir, "relation")
    if exclude_symmetric:
        data.macro_exclude = symmetric_relations()
    return data


def read_vg_attribution(root: Path, annotation: str = ATTRIBUTION_FILE, images_dir: str = "images",
                        min_items: int = 25) -> ChoiceData:
    """VG-Attribution; per-pair and macro accuracy over the attribute pairs with >= `min_items` cases."""
    data = _read_vg(root, annotation, images_dir, "attribute")
    data.macro_min_items = int(min_items)
    return data
