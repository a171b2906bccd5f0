"""SugarCrepe caption selection (docs/protocols.md §E.3): one official JSON file per subset, COCO val2017 images.

Each file is a JSON object `{"<id>": {"filename": "000000085329.jpg", "caption": <positive>,
"negative_caption": <hard negative>}, ...}`. Ids are not contiguous in every file (swap_obj), so cases are
read in the file's key order, never by counting. Options are `[caption, negative_caption]` with the true one
first; the official rule (`tie_policy=reference`) is strict: correct iff the positive scores higher.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.choice_records import ChoiceData
from lipeval.datasets.files import first_present, read_json
from lipeval.datasets.records import FileImages
from lipeval.errors import ConfigError, DataError, DataMissing

SUBSETS = ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj")
LAYOUT = "sugarcrepe/{add_att,add_obj,replace_att,replace_obj,replace_rel,swap_att,swap_obj}.json + coco/val2017/"
ITEM_SHAPE = '{"<id>": {"filename": "000000085329.jpg", "caption": "...", "negative_caption": "..."}, ...}'


def _find(root: Path, subset: str) -> Path:
    name = first_present(root, (f"{subset}.json", f"data/{subset}.json"))
    if name is None:
        raise DataMissing(f"expected file {root / f'{subset}.json'} (the official SugarCrepe file; layout {LAYOUT})")
    return root / name


def read_sugarcrepe(root: Path, subset: str, images_dir: str = "../coco/val2017") -> ChoiceData:
    """Read `root/<subset>.json` (or `root/data/<subset>.json`); images under `root/images_dir`.

    Errors: an unknown subset -> ConfigError; no file or no image folder -> DataMissing; bad JSON, a missing
    or empty field, a missing image file -> DataError naming the file and the item id.
    """
    if subset not in SUBSETS:
        raise ConfigError(f"unknown SugarCrepe subset {subset!r}; expected one of {', '.join(SUBSETS)}")
    root = Path(root)
    path = _find(root, subset)
    image_root = root / images_dir
    if not image_root.is_dir():
        raise DataMissing(f"expected folder {image_root} with the COCO val2017 images (layout {LAYOUT})")
    data = read_json(path, f"a JSON object {ITEM_SHAPE}", top=dict)
    index: dict[str, int] = {}
    case_image, options = [], []
    for key, item in data.items():
        if not isinstance(item, dict):
            raise DataError(f"{path}: item {key!r} is a {type(item).__name__}, expected an object like {ITEM_SHAPE}")
        fields = []
        for name in ("filename", "caption", "negative_caption"):
            value = item.get(name)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"{path}: item {key!r} field {name!r} must be a non-empty string, got {value!r}")
            fields.append(value)
        filename, caption, negative = fields
        case_image.append(index.setdefault(filename, len(index)))
        options.append([caption, negative])
    images = FileImages(image_root, list(index))
    images.check_exist(str(path))
    return ChoiceData(images, case_image, options, [0] * len(options), reference_rule="strict", source=str(path),
                      extra={"subset": subset})
