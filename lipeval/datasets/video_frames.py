"""UCF101 and Kinetics-700 as image sets of one frame per clip (the CLIP paper probes the centre frame).

lipeval does not decode video: extract the middle frame of every clip once (e.g. with ffmpeg at
t = duration / 2) into the `frames/` layout below; the official split files say which clips and labels.

UCF101 (`read_ucf101`):

    <root>/ucfTrainTestlist/classInd.txt                 "1 ApplyEyeMakeup" ... (101 lines)
    <root>/ucfTrainTestlist/{trainlist,testlist}0F.txt   "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi[ 1]", F = fold
    <root>/frames/<Class>/<clip stem>.jpg                the centre frame of UCF-101/<Class>/<clip>.avi

Kinetics-700 (`read_kinetics700`, the k700-2020 release):

    <root>/annotations/{train,validate}.csv     header label,youtube_id,time_start,time_end,split
    <root>/frames/{train,validate}/<youtube_id>_<time_start:06d>_<time_end:06d>.jpg   centre frames

Split "test" is Kinetics' validate set. Labels are positions in the sorted list of the train CSV's labels.
Many Kinetics videos are no longer online, so every copy lacks clips: clips without a frame file are left
out and counted (`extra["n_missing"]`); a split with no frame at all is missing data.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from lipeval.datasets.cb_text import templates_for
from lipeval.datasets.folder import read_lines
from lipeval.datasets.records import ClassificationData, FileImages, require_dir, require_file
from lipeval.errors import ConfigError, DataError, DataMissing

UCF_LAYOUT = ("<root>/ucfTrainTestlist/{classInd.txt, trainlist01.txt, testlist01.txt} and the centre frames "
              "<root>/frames/<Class>/<clip stem>.jpg")
K700_LAYOUT = ("<root>/annotations/{train,validate}.csv (k700-2020) and the centre frames "
               "<root>/frames/{train,validate}/<youtube_id>_<start:06d>_<end:06d>.jpg")


def camel_to_words(name: str) -> str:
    """"ApplyEyeMakeup" -> "Apply Eye Makeup", "YoYo" -> "Yo Yo"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).replace("_", " ")


def read_ucf101(root: Path, split: str = "test", fold: int = 1) -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"ucf101: split {split!r} is not one of train, test")
    if int(fold) not in (1, 2, 3):
        raise ConfigError(f"ucf101: fold {fold!r} is not one of 1, 2, 3")
    root = Path(root)
    lists = root / "ucfTrainTestlist"
    class_file = require_file(lists / "classInd.txt", UCF_LAYOUT)
    split_file = require_file(lists / f"{'trainlist' if split == 'train' else 'testlist'}{int(fold):02d}.txt",
                              UCF_LAYOUT)
    require_dir(root / "frames", UCF_LAYOUT)
    classes = {}
    for n, line in read_lines(class_file):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise DataError(f"{class_file}: line {n}: expected `<index> <ClassName>`, got {line!r}")
        classes[parts[1]] = int(parts[0]) - 1
    if sorted(classes.values()) != list(range(len(classes))):
        raise DataError(f"{class_file}: class indices must run 1..{len(classes)}")
    relpaths, labels = [], []
    for n, line in read_lines(split_file):
        clip = line.split()[0]
        cls = clip.split("/")[0]
        if cls not in classes or "/" not in clip:
            raise DataError(f"{split_file}: line {n}: {clip!r} is not `<Class>/<clip>.avi` with a class of "
                            f"{class_file.name}")
        given = line.split()[1:]
        if given and (not given[0].isdigit() or int(given[0]) - 1 != classes[cls]):
            raise DataError(f"{split_file}: line {n}: label {given[0]!r} disagrees with class {cls!r} "
                            f"(index {classes[cls] + 1} in {class_file.name})")
        relpaths.append(f"frames/{cls}/{Path(clip).stem}.jpg")
        labels.append(classes[cls])
    images = FileImages(root, relpaths)
    images.check_exist(f"{split_file} (centre frames, {UCF_LAYOUT})")
    names = [camel_to_words(c) for c, _ in sorted(classes.items(), key=lambda kv: kv[1])]
    return ClassificationData(images, np.asarray(labels, dtype=np.int64), names, templates_for("ucf101"),
                              source=str(split_file), extra={"fold": int(fold), "frame": "centre"})


def _k700_rows(path: Path) -> list[tuple[int, dict]]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = {"label", "youtube_id", "time_start", "time_end"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path}: header lacks {', '.join(sorted(missing))} "
                                f"(expected label,youtube_id,time_start,time_end,split)")
            return [(n, row) for n, row in enumerate(reader, start=2)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: not a readable CSV file ({e})") from None


def read_kinetics700(root: Path, split: str = "test") -> ClassificationData:
    if split not in ("train", "test"):
        raise ConfigError(f"kinetics700: split {split!r} is not one of train, test")
    root = Path(root)
    part = "train" if split == "train" else "validate"
    train_csv = require_file(root / "annotations" / "train.csv", K700_LAYOUT)
    split_csv = require_file(root / "annotations" / f"{part}.csv", K700_LAYOUT)
    frames = require_dir(root / "frames" / part, K700_LAYOUT)
    classnames = sorted({row["label"] for _, row in _k700_rows(train_csv)})
    index = {c: i for i, c in enumerate(classnames)}
    relpaths, labels, n_listed = [], [], 0
    for n, row in _k700_rows(split_csv):
        if row["label"] not in index:
            raise DataError(f"{split_csv}: line {n}: label {row['label']!r} does not occur in {train_csv.name}")
        try:
            stem = f"{row['youtube_id']}_{int(row['time_start']):06d}_{int(row['time_end']):06d}"
        except ValueError:
            raise DataError(f"{split_csv}: line {n}: time_start/time_end must be integers") from None
        n_listed += 1
        if (frames / f"{stem}.jpg").is_file():
            relpaths.append(f"frames/{part}/{stem}.jpg")
            labels.append(index[row["label"]])
    if not relpaths:
        raise DataMissing(f"kinetics700: none of the {n_listed} {part} clips has a frame in {frames} ({K700_LAYOUT})")
    return ClassificationData(FileImages(root, relpaths), np.asarray(labels, dtype=np.int64), classnames,
                              templates_for("kinetics700"), source=str(split_csv),
                              extra={"frame": "centre", "n_listed": n_listed, "n_missing": n_listed - len(relpaths),
                                     "note": "clips without a frame file (videos no longer online) are left out"})
