"""ShareGPT4V long-text retrieval sets (docs/protocols.md §B.1 and §B.6).

Layout under the task folder: the JSON files, and the images at the paths the records name,
relative to this folder (or to `images_dir` inside it):

    sharegpt4v/share4v_sam_10k.json                               LoTLIP's SAM-only 10k file
    sharegpt4v/share-captioner_coco_lcs_sam_1246k_1107.json       the full captioner file (Long-CLIP)
    sharegpt4v/<image path of each record>

A file is a JSON list of records `{"image": <relative path>, "conversations": [{"from": "human",
...}, {"from": "gpt", "value": <long caption>}], ...}`; the caption is `conversations[1].value`.
A set is the first `n_records` records of a file, in file order, one caption per image:

* LoTLIP's SV-10k and SV-1k: the first 10,000 and 1,000 records of `share4v_sam_10k.json`;
* Long-CLIP's ShareGPT4V-1k: the first 1,000 records of the full captioner file. Only those
  records are parsed (see `json_prefix`), so the 1.2-million-record file costs no more than 1k.

The text preprocessing (LoTLIP's sentence split, or Long-CLIP's newline -> space) is a protocol
option of the task, not of this reader.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.files import read_json
from lipeval.datasets.json_prefix import first_elements
from lipeval.datasets.records import FileImages, RetrievalData, require_file
from lipeval.errors import ConfigError, DataError

LAYOUT = "sharegpt4v/<annotation>.json + the images at the paths its records give, relative to sharegpt4v/"
RECORD_SHAPE = '{"image": "<path>", "conversations": [{"from": "human", ...}, {"from": "gpt", "value": "<caption>"}]}'
FILE_SHAPE = f"a JSON list of records {RECORD_SHAPE}"


def _record(rec, i: int, path: Path) -> tuple[str, str]:
    """(image path, caption) of record [i]."""
    if not isinstance(rec, dict):
        raise DataError(f"{path}: record [{i}] is a JSON {type(rec).__name__}; expected {RECORD_SHAPE}")
    image = rec.get("image")
    if not isinstance(image, str) or not image.strip():
        raise DataError(
            f"{path}: record [{i}] needs a non-empty string 'image', got {image!r}; expected {RECORD_SHAPE}"
        )
    conv = rec.get("conversations")
    if not isinstance(conv, list) or len(conv) < 2 or not isinstance(conv[1], dict):
        raise DataError(
            f"{path}: record [{i}] ({image}) needs 'conversations' with at least two turns, the second an "
            f"object holding the caption in 'value'; expected {RECORD_SHAPE}"
        )
    text = conv[1].get("value")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{path}: record [{i}] ({image}): conversations[1].value must be a non-empty string")
    return image, text


def read_sharegpt4v(
    root: Path, annotation: str = "share4v_sam_10k.json", n_records: int | None = None, images_dir: str = ""
) -> RetrievalData:
    """The first `n_records` records of `root/annotation` (all when None), one caption per image.

    The file must hold at least `n_records` records (a shorter one is a DataError: it is not the
    set the task names). Errors: no file -> DataMissing; malformed JSON, a bad record or a
    missing image -> DataError naming the file and the record.
    """
    root = Path(root)
    path = require_file(root / annotation, LAYOUT)
    if n_records is not None and (not isinstance(n_records, int) or isinstance(n_records, bool) or n_records < 1):
        raise ConfigError(f"sharegpt4v reader: n_records must be a positive integer or null, got {n_records!r}")
    if n_records is None:
        records = read_json(path, FILE_SHAPE, top=list)
    else:
        records = first_elements(path, n_records, FILE_SHAPE)
        if len(records) < n_records:
            raise DataError(f"{path}: {len(records)} records, but this set is the first {n_records}")
    if not records:
        raise DataError(f"{path}: no records")
    images, texts = [], []
    for i, rec in enumerate(records):
        image, text = _record(rec, i, path)
        images.append(image)
        texts.append(text)
    files = FileImages(root / images_dir if images_dir else root, images)
    files.check_exist(str(path))
    return RetrievalData(files, texts, list(range(len(texts))), source=str(path))
