"""COCO 5k Karpathy test split for image-text retrieval (docs/protocols.md §A.1).

Two official forms of the same annotations are read:

* COCO-captions format, `coco_test_karpathy.json` (the file CLIP_benchmark downloads from
  mehdidc/retrieval_annotations): `{"images": [{"file_name", "id", ...}], "annotations":
  [{"image_id", "id", "caption"}], "info", "licenses"}`, images under `root/<images_dir>/`.
* BLIP/ALBEF format, `coco_karpathy_test.json`: a JSON list of `{"image":
  "val2014/COCO_val2014_...jpg", "caption": [...]}` with image paths relative to `root`.

Both give the same records: image ids are paths relative to `root` (`val2014/<file>`), and
every caption of an image is kept (the real set has 25,010 captions; some images have 6-7).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lipeval.datasets.files import find_annotation, read_json
from lipeval.datasets.records import FileImages, RetrievalData
from lipeval.errors import DataError

COCO_CAPTIONS_NAME = "coco_test_karpathy.json"
BLIP_NAME = "coco_karpathy_test.json"
ANNOTATIONS = {COCO_CAPTIONS_NAME: "COCO-captions format", BLIP_NAME: "BLIP/ALBEF format"}  # in order of preference
LAYOUT = "coco/{coco_test_karpathy.json + val2014/ | coco_karpathy_test.json + val2014/}"

COCO_CAPTIONS_SHAPE = (
    '{"images": [{"file_name": ..., "id": ...}], "annotations": [{"image_id": ..., "id": ..., "caption": ...}]}'
)
BLIP_SHAPE = '[{"image": "val2014/COCO_val2014_....jpg", "caption": ["...", ...]}, ...]'


def group_blip_entries(data: list, path: Path, example: str) -> tuple[list[str], list[list[str]]]:
    """Read a BLIP/ALBEF-style list of {"image", "caption"} entries (`example` shows one, for errors).

    `caption` may be a list of strings (test files) or one string (train-style files); entries
    that repeat an image are merged into its first occurrence. Returns (image relpaths, captions
    per image) in order of first appearance.
    """
    order: dict[str, list[str]] = {}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise DataError(f"{path}: entry [{i}] is a {type(entry).__name__}, expected an object like {example}")
        for key in ("image", "caption"):
            if key not in entry:
                raise DataError(f"{path}: entry [{i}] has no key '{key}'; expected entries like {example}")
        image, caps = entry["image"], entry["caption"]
        if not isinstance(image, str) or not image.strip():
            raise DataError(f"{path}: entry [{i}] key 'image' must be a non-empty path string, got {image!r}")
        if isinstance(caps, str):
            caps = [caps]
        if not isinstance(caps, list) or not all(isinstance(c, str) for c in caps):
            raise DataError(f"{path}: entry [{i}] ({image}) key 'caption' must be a list of strings")
        for c in caps:
            if not c.strip():
                raise DataError(f"{path}: entry [{i}] ({image}) has an empty caption string")
        order.setdefault(image, []).extend(caps)
    empty = [img for img, caps in order.items() if not caps]
    if empty:
        raise DataError(f"{path}: {len(empty)} image(s) have no captions, e.g. {empty[0]}")
    return list(order), list(order.values())


def _need(obj: dict, key: str, where: str, path: Path) -> Any:
    if key not in obj:
        raise DataError(f"{path}: {where} has no key '{key}'; expected a COCO-captions JSON {COCO_CAPTIONS_SHAPE}")
    return obj[key]


def _read_coco_captions(
    data: dict, path: Path, images_dir: str, torchvision_order: bool
) -> tuple[list[str], list[list[str]]]:
    images = _need(data, "images", "the top-level object", path)
    anns = _need(data, "annotations", "the top-level object", path)
    for key, val in (("images", images), ("annotations", anns)):
        if not isinstance(val, list):
            raise DataError(f"{path}: key '{key}' must be a list; expected {COCO_CAPTIONS_SHAPE}")

    file_of: dict[Any, str] = {}
    for i, im in enumerate(images):
        if not isinstance(im, dict):
            raise DataError(f"{path}: images[{i}] is not an object; expected {COCO_CAPTIONS_SHAPE}")
        img_id = _need(im, "id", f"images[{i}]", path)
        name = _need(im, "file_name", f"images[{i}]", path)
        if not isinstance(name, str) or not name.strip():
            raise DataError(f"{path}: images[{i}] 'file_name' must be a non-empty string, got {name!r}")
        if not isinstance(img_id, (int, str)) or isinstance(img_id, bool):
            raise DataError(f"{path}: images[{i}] 'id' must be an integer or a string, got {img_id!r}")
        if img_id in file_of:
            raise DataError(f"{path}: image id {img_id} appears twice in 'images' ({file_of[img_id]}, {name})")
        file_of[img_id] = name

    caps_of: dict[Any, list[tuple[Any, int, str]]] = {k: [] for k in file_of}
    seen_ann: set = set()
    for j, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise DataError(f"{path}: annotations[{j}] is not an object; expected {COCO_CAPTIONS_SHAPE}")
        img_id = _need(ann, "image_id", f"annotations[{j}]", path)
        ann_id = _need(ann, "id", f"annotations[{j}]", path)
        cap = _need(ann, "caption", f"annotations[{j}]", path)
        if img_id not in caps_of:
            raise DataError(
                f"{path}: annotations[{j}] (id {ann_id}) refers to image_id {img_id}, which is not in 'images'"
            )
        if not isinstance(cap, str) or not cap.strip():
            raise DataError(
                f"{path}: annotations[{j}] (id {ann_id}, image {file_of[img_id]}) has an empty caption: {cap!r}"
            )
        if ann_id in seen_ann:
            raise DataError(f"{path}: annotation id {ann_id} appears twice in 'annotations'")
        seen_ann.add(ann_id)
        caps_of[img_id].append((ann_id, j, cap))

    empty = [file_of[k] for k, v in caps_of.items() if not v]
    if empty:
        raise DataError(
            f"{path}: {len(empty)} image(s) in 'images' have no caption in 'annotations', e.g. {empty[0]} "
            "(every image of a retrieval set needs at least one caption)"
        )

    img_ids = list(file_of)
    if torchvision_order:
        # torchvision CocoCaptions (what CLIP_benchmark uses): images sorted by id, captions in file order.
        try:
            img_ids.sort()
        except TypeError:
            raise DataError(f"{path}: image ids mix types and cannot be sorted") from None
        by_file = {k: [c for _, _, c in v] for k, v in caps_of.items()}
        captions = [by_file[k] for k in img_ids]
    else:
        captions = []
        for k in img_ids:
            try:
                captions.append([c for _, _, c in sorted(caps_of[k], key=lambda t: (t[0], t[1]))])
            except TypeError:
                raise DataError(f"{path}: annotation ids of image {file_of[k]} mix types and cannot be sorted") from None
    prefix = images_dir.strip("/")
    relpaths = [f"{prefix}/{file_of[k]}" if prefix else file_of[k] for k in img_ids]
    return relpaths, captions


def read_coco_karpathy(
    root: Path,
    annotation: str | None = None,
    images_dir: str = "val2014",
    quirk_torchvision_order: bool = False,
) -> RetrievalData:
    """Read the COCO Karpathy test split in either official form (the file's content decides).

    `annotation` names the file under `root` (default: `coco_test_karpathy.json` if present,
    else `coco_karpathy_test.json`). `images_dir` is where COCO-captions `file_name`s live; the
    BLIP form carries its own `val2014/...` paths. Order: images as listed in `images`, captions
    of an image in annotation-id order. `quirk_torchvision_order=True` instead sorts images by
    id and keeps captions in file order, as torchvision's CocoCaptions (and so CLIP_benchmark)
    does; only tie-breaking can differ.

    Errors: no annotation file -> DataMissing; bad JSON, missing keys, unknown image_id, an image
    without captions, an empty caption or a missing image file -> DataError.
    """
    root = Path(root)
    path = find_annotation(root, annotation, ANNOTATIONS, "COCO Karpathy", LAYOUT)
    data = read_json(path, f"a COCO-captions object {COCO_CAPTIONS_SHAPE} or a BLIP list {BLIP_SHAPE}")
    if isinstance(data, dict):
        if "images" not in data and "annotations" not in data:
            raise DataError(
                f"{path}: a JSON object without keys 'images' and 'annotations'; expected a COCO-captions "
                f"object {COCO_CAPTIONS_SHAPE} or a BLIP list {BLIP_SHAPE}"
            )
        relpaths, captions = _read_coco_captions(data, path, images_dir, quirk_torchvision_order)
    elif isinstance(data, list):
        relpaths, captions = group_blip_entries(data, path, BLIP_SHAPE)
    else:
        raise DataError(
            f"{path}: top level is a JSON {type(data).__name__}; expected a COCO-captions object "
            f"{COCO_CAPTIONS_SHAPE} or a BLIP list {BLIP_SHAPE}"
        )
    if not relpaths:
        raise DataError(f"{path}: no images listed")
    images = FileImages(root, relpaths)
    images.check_exist(str(path))
    texts = [c for caps in captions for c in caps]
    text_image = [i for i, caps in enumerate(captions) for _ in caps]
    return RetrievalData(images, texts, text_image, source=str(path))
