"""Linear-probe readers on tiny fixtures in each set's official on-disk format, malformed ones included, and
the split wrapper (`probe` reader)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lipeval.datasets import READERS, get_reader
from lipeval.datasets.birdsnap import read_birdsnap
from lipeval.datasets.clevr import read_clevr_count
from lipeval.datasets.hateful_memes import read_hateful_memes
from lipeval.datasets.kitti import distance_label, read_kitti_distance, split_image_ids
from lipeval.datasets.probe import ProbeData, RowsImages, carve_per_class, read_probe
from lipeval.datasets.sun397 import read_sun397
from lipeval.datasets.video_frames import camel_to_words, read_kinetics700, read_ucf101
from lipeval.errors import ConfigError, DataError, DataMissing


def img(path: Path, color=(120, 30, 30), fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), color).save(path, format=fmt or {".png": "PNG"}.get(path.suffix, "JPEG"))
    return path


def text(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


# ------------------------------------------------------------------ the split wrapper

def _folder_set(root: Path, classes=("ant", "bee", "cat"), per_class=(4, 4, 4), splits=("train", "test")):
    for split in splits:
        for c, n in zip(classes, per_class):
            for k in range(n):
                img(root / split / c / f"{k}.png", (10 * k, 40, 90))
    text(root / "classnames.txt", "".join(f"{c}\n" for c in sorted(classes)))
    text(root / "templates.txt", "a photo of a {c}.\n")


def test_probe_reader_reads_each_split_with_the_underlying_reader(tmp_path):
    _folder_set(tmp_path / "set")
    data = read_probe(tmp_path / "set", reader="image_folder")
    assert isinstance(data, ProbeData) and data.val is None and not data.multilabel
    assert data.train.images.ids[0] == "train/ant/0.png" and data.test.images.ids[0] == "test/ant/0.png"
    assert data.classnames == ["ant", "bee", "cat"] and data.extra["splits"]["train"] == "train"
    assert data.fingerprint() != read_probe(tmp_path / "set", reader="image_folder", train="test").fingerprint()
    small = data.limit(2)
    assert len(small.train.labels) == 2 and len(small.test.labels) == 2


def test_probe_reader_refuses_splits_whose_class_folders_differ(tmp_path):
    _folder_set(tmp_path / "set", splits=("train",))
    _folder_set(tmp_path / "set", classes=("ant", "bee", "dog"), splits=("test",))
    (tmp_path / "set" / "classnames.txt").write_text("ant\nbee\ncat\n", encoding="utf-8")
    with pytest.raises(DataError, match="class folders differ.*'cat' vs 'dog'|'dog' vs 'cat'"):
        read_probe(tmp_path / "set", reader="image_folder")


def test_probe_reader_carves_a_seeded_per_class_split(tmp_path):
    _folder_set(tmp_path / "set", per_class=(5, 6, 7), splits=("test",))
    data = read_probe(tmp_path / "set", reader="image_folder", train=None,
                      carve={"train_per_class": 2, "test_per_class": 3, "seed": 0})
    assert isinstance(data.train.images, RowsImages) and data.train.images.parent is data.test.images.parent
    assert np.bincount(data.train.labels).tolist() == [2, 2, 2] and np.bincount(data.test.labels).tolist() == [3, 3, 3]
    assert not set(data.train.images.ids) & set(data.test.images.ids)
    again = read_probe(tmp_path / "set", reader="image_folder", train=None,
                       carve={"train_per_class": 2, "test_per_class": 3, "seed": 0})
    assert again.train.images.ids == data.train.images.ids
    assert data.train.images.load(0).size == (8, 8)
    with pytest.raises(DataError, match="class 'ant' has 5 images; the split needs 6"):
        read_probe(tmp_path / "set", reader="image_folder", train=None, carve={"train_per_class": 3, "test_per_class": 3})


def test_carve_without_test_count_keeps_the_rest():
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    tr, te = carve_per_class(labels, ["a", "b"], 1, None, 0, "x")
    assert len(tr) == 2 and len(te) == 5 and sorted(np.concatenate([tr, te]).tolist()) == list(range(7))


def test_probe_reader_argument_errors(tmp_path):
    with pytest.raises(ConfigError, match="unknown underlying reader 'nope'"):
        read_probe(tmp_path, reader="nope")
    with pytest.raises(ConfigError, match="either a train split or carve"):
        read_probe(tmp_path, reader="image_folder", carve={"train_per_class": 1})
    with pytest.raises(ConfigError, match="carve takes"):
        read_probe(tmp_path, reader="image_folder", train=None, carve={"per_class": 1})
    with pytest.raises(DataMissing, match="train"):
        read_probe(tmp_path / "absent", reader="image_folder")


def test_probe_readers_are_registered():
    for name in ("probe", "birdsnap", "sun397_partitions", "kitti_distance", "ucf101_frames", "kinetics700_frames",
                 "clevr_count", "hateful_memes"):
        assert callable(get_reader(name)), name
    assert READERS["probe"].endswith(":read_probe")


# ------------------------------------------------------------------ Birdsnap

def _birdsnap(root: Path, with_missing=True):
    text(root / "species.txt", "id\tcommon\tscientific\tdir\n1\tAcadian Flycatcher\tEmpidonax virescens\t"
                               "Acadian_Flycatcher\n2\tBlue Jay\tCyanocitta cristata\tBlue_Jay\n")
    rows = [("Acadian_Flycatcher/1.jpg", 1), ("Acadian_Flycatcher/2.jpg", 1), ("Blue_Jay/3.jpg", 2),
            ("Blue_Jay/4.jpg", 2), ("Blue_Jay/5.jpg", 2)]
    text(root / "images.txt", "url\tmd5\tpath\tspecies_id\tbb_x1\tbb_y1\tbb_x2\tbb_y2\tback_x\tback_y\n" + "".join(
        f"http://x/{k}.jpg\tabc\t{p}\t{s}\t1\t1\t5\t5\t\t\n" for k, (p, s) in enumerate(rows)))
    text(root / "test_images.txt", "path\nAcadian_Flycatcher/2.jpg\nBlue_Jay/5.jpg\n")
    for p, _ in rows:
        if not (with_missing and p == "Blue_Jay/4.jpg"):
            img(root / "download" / "images" / p)


def test_birdsnap_splits_labels_and_missing_images(tmp_path):
    _birdsnap(tmp_path)
    train, test = read_birdsnap(tmp_path, "train"), read_birdsnap(tmp_path, "test")
    assert train.images.ids == ["download/images/Acadian_Flycatcher/1.jpg", "download/images/Blue_Jay/3.jpg"]
    assert train.labels.tolist() == [0, 1] and test.labels.tolist() == [0, 1]
    assert train.extra["n_missing"] == 1 and test.extra["n_missing"] == 0
    assert train.classnames == ["Acadian Flycatcher", "Blue Jay"] and train.images.load(0).mode == "RGB"


def test_birdsnap_malformed_and_missing(tmp_path):
    _birdsnap(tmp_path)
    text(tmp_path / "images.txt", "url\tmd5\tpath\tspecies_id\nu\tm\tBlue_Jay/3.jpg\tseven\n")
    with pytest.raises(DataError, match=r"images.txt: line 2: species_id 'seven'"):
        read_birdsnap(tmp_path, "train")
    text(tmp_path / "images.txt", "url\tmd5\tfile\tspecies_id\n")
    with pytest.raises(DataError, match="header lacks field\\(s\\) path"):
        read_birdsnap(tmp_path, "train")
    with pytest.raises(DataMissing, match="species.txt"):
        read_birdsnap(tmp_path / "nothing", "test")


# ------------------------------------------------------------------ SUN397 partitions

def test_sun397_partitions(tmp_path):
    text(tmp_path / "SUN397" / "ClassName.txt", "/a/abbey\n/a/apartment_building/outdoor\n")
    for p in ("a/abbey/sun_1.jpg", "a/abbey/sun_2.jpg", "a/apartment_building/outdoor/sun_3.jpg"):
        img(tmp_path / "SUN397" / p)
    text(tmp_path / "Partitions" / "Training_01.txt", "/a/apartment_building/outdoor/sun_3.jpg\n/a/abbey/sun_1.jpg\n")
    text(tmp_path / "Partitions" / "Testing_01.txt", "/a/abbey/sun_2.jpg\n")
    train = read_sun397(tmp_path, "train")
    assert train.labels.tolist() == [1, 0] and train.images.ids[0] == "SUN397/a/apartment_building/outdoor/sun_3.jpg"
    assert train.classnames == ["abbey", "apartment building outdoor"]
    assert read_sun397(tmp_path, "test").labels.tolist() == [0]
    text(tmp_path / "Partitions" / "Testing_01.txt", "/b/bakery/sun_9.jpg\n")
    with pytest.raises(DataError, match="Testing_01.txt: line 1.*'/b/bakery'"):
        read_sun397(tmp_path, "test")
    with pytest.raises(DataMissing, match="Training_02.txt"):
        read_sun397(tmp_path, "train", partition=2)


# ------------------------------------------------------------------ KITTI distance

def _kitti_label(*objects):
    return "".join(f"{t} 0.00 0 -1.5 10 20 30 40 1.5 1.6 4.0 1.0 1.5 {z} 0.1\n" for t, z in objects)


def test_kitti_distance_label_rule():
    assert distance_label(_kitti_label(("Car", 5.0), ("Pedestrian", 1.0)), "x") == 0
    assert distance_label(_kitti_label(("Van", 8.0)), "x") == 0  # not above 8 m
    assert distance_label(_kitti_label(("Truck", 8.01), ("Car", 30.0)), "x") == 1
    assert distance_label(_kitti_label(("Car", 45.2)), "x") == 2
    assert distance_label(_kitti_label(("Cyclist", 3.0), ("DontCare", -1000)), "x") == 3  # no vehicle
    with pytest.raises(DataError, match="line 1 has 3 fields"):
        distance_label("Car 0 0\n", "lbl.txt")


def _kitti(root: Path, n_drives=20, per_drive=3, zipped=False):
    mapping = [f"2011_09_26 2011_09_26_drive_{d:04d}_sync {f:010d}" for d in range(n_drives) for f in range(per_drive)]
    order = list(np.random.default_rng(0).permutation(len(mapping)) + 1)
    files = {"mapping/train_rand.txt": ",".join(map(str, order)) + "\n",
             "mapping/train_mapping.txt": "\n".join(mapping) + "\n"}
    root.mkdir(parents=True, exist_ok=True)
    if zipped:
        with zipfile.ZipFile(root / "devkit_object.zip", "w") as z:
            for k, v in files.items():
                z.writestr(k, v)
    else:
        for k, v in files.items():
            text(root / k, v)
    for i in range(len(mapping)):
        img(root / "training" / "image_2" / f"{i:06d}.png")
        text(root / "training" / "label_2" / f"{i:06d}.txt", _kitti_label(("Car", 4.0 + 7 * (i % 4))))
    return mapping, order


def test_kitti_splits_keep_drives_together(tmp_path):
    mapping, order = _kitti(tmp_path)
    ids = split_image_ids((tmp_path / "mapping/train_rand.txt").read_text(),
                          (tmp_path / "mapping/train_mapping.txt").read_text())
    assert sorted(sum(ids.values(), [])) == list(range(60))
    drive = {i: mapping[order[i] - 1].split()[1] for i in range(60)}
    drives = {k: {drive[i] for i in v} for k, v in ids.items()}
    assert len(drives["test"]) == 2 and len(drives["val"]) == 2 and len(drives["train"]) == 16  # 10 % / 10 %
    assert not (drives["test"] & drives["val"]) and not (drives["train"] & (drives["test"] | drives["val"]))
    test = read_kitti_distance(tmp_path, "test")
    assert test.images.ids == [f"training/image_2/{i:06d}.png" for i in ids["test"]]
    assert test.labels.tolist() == [{0: 0, 1: 1, 2: 1, 3: 2}[i % 4] for i in ids["test"]]  # z = 4, 11, 18, 25 m
    assert len(test.classnames) == 4 and test.templates == ["{c}"]


def test_kitti_devkit_zip_gives_the_same_split(tmp_path):
    _kitti(tmp_path / "a")
    _kitti(tmp_path / "b", zipped=True)
    assert read_kitti_distance(tmp_path / "a", "val").images.ids == read_kitti_distance(tmp_path / "b", "val").images.ids


def test_kitti_malformed_mapping_and_missing_files(tmp_path):
    _kitti(tmp_path)
    text(tmp_path / "mapping" / "train_rand.txt", "1,2,x\n")
    with pytest.raises(DataError, match="train_rand.txt: expected comma-separated"):
        read_kitti_distance(tmp_path, "train")
    text(tmp_path / "mapping" / "train_rand.txt", "1,2,999\n")
    with pytest.raises(DataError, match="points at line 999"):
        read_kitti_distance(tmp_path, "train")
    with pytest.raises(DataMissing, match="image_2"):
        read_kitti_distance(tmp_path / "none", "train")


# ------------------------------------------------------------------ UCF101 and Kinetics-700 centre frames

def _ucf(root: Path):
    text(root / "ucfTrainTestlist" / "classInd.txt", "1 ApplyEyeMakeup\n2 YoYo\n")
    text(root / "ucfTrainTestlist" / "trainlist01.txt",
         "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nYoYo/v_YoYo_g08_c02.avi 2\n")
    text(root / "ucfTrainTestlist" / "testlist01.txt", "YoYo/v_YoYo_g01_c01.avi\n")
    for p in ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01", "YoYo/v_YoYo_g08_c02", "YoYo/v_YoYo_g01_c01"):
        img(root / "frames" / f"{p}.jpg")


def test_ucf101_centre_frames(tmp_path):
    _ucf(tmp_path)
    train, test = read_ucf101(tmp_path, "train"), read_ucf101(tmp_path, "test")
    assert train.labels.tolist() == [0, 1] and test.labels.tolist() == [1]
    assert test.images.ids == ["frames/YoYo/v_YoYo_g01_c01.jpg"] and train.classnames == ["Apply Eye Makeup", "Yo Yo"]
    assert camel_to_words("PlayingDaf") == "Playing Daf"


def test_ucf101_malformed(tmp_path):
    _ucf(tmp_path)
    text(tmp_path / "ucfTrainTestlist" / "trainlist01.txt", "YoYo/v_YoYo_g08_c02.avi 1\n")
    with pytest.raises(DataError, match="trainlist01.txt: line 1: label '1' disagrees with class 'YoYo'"):
        read_ucf101(tmp_path, "train")
    (tmp_path / "frames" / "YoYo" / "v_YoYo_g01_c01.jpg").unlink()
    with pytest.raises(DataError, match="v_YoYo_g01_c01.jpg"):
        read_ucf101(tmp_path, "test")


def _k700(root: Path):
    head = "label,youtube_id,time_start,time_end,split\n"
    text(root / "annotations" / "train.csv", head + "abseiling,aaa,10,20,train\n\"zumba, dance\",bbb,0,10,train\n")
    text(root / "annotations" / "validate.csv", head + "\"zumba, dance\",ccc,5,15,validate\nabseiling,ddd,1,11,validate\n")
    img(root / "frames" / "train" / "aaa_000010_000020.jpg")
    img(root / "frames" / "train" / "bbb_000000_000010.jpg")
    img(root / "frames" / "validate" / "ccc_000005_000015.jpg")  # ddd is gone, as many Kinetics videos are


def test_kinetics700_frames_and_missing_clips(tmp_path):
    _k700(tmp_path)
    test = read_kinetics700(tmp_path, "test")
    assert test.classnames == ["abseiling", "zumba, dance"] and test.labels.tolist() == [1]
    assert test.extra["n_listed"] == 2 and test.extra["n_missing"] == 1
    assert read_kinetics700(tmp_path, "train").labels.tolist() == [0, 1]


def test_kinetics700_malformed(tmp_path):
    _k700(tmp_path)
    text(tmp_path / "annotations" / "validate.csv", "label,youtube_id,time_start,time_end\nskydiving,x,1,2\n")
    with pytest.raises(DataError, match="line 2: label 'skydiving' does not occur in train.csv"):
        read_kinetics700(tmp_path, "test")
    text(tmp_path / "annotations" / "validate.csv", "label,id\nabseiling,x\n")
    with pytest.raises(DataError, match="header lacks"):
        read_kinetics700(tmp_path, "test")


# ------------------------------------------------------------------ CLEVR counts

def _clevr(root: Path, counts=(3, 10, 5)):
    for part in ("train", "val"):
        scenes = [{"image_index": k, "image_filename": f"CLEVR_{part}_{k:06d}.png", "split": part,
                   "objects": [{"shape": "cube"}] * n} for k, n in enumerate(counts)]
        text(root / "CLEVR_v1.0" / "scenes" / f"CLEVR_{part}_scenes.json",
             json.dumps({"info": {"split": part}, "scenes": scenes}))
        for k in range(len(counts)):
            img(root / "CLEVR_v1.0" / "images" / part / f"CLEVR_{part}_{k:06d}.png")


def test_clevr_counts(tmp_path):
    _clevr(tmp_path)
    test = read_clevr_count(tmp_path, "test")
    assert test.labels.tolist() == [0, 7, 2] and test.classnames[0] == "three" and len(test.classnames) == 8
    assert test.images.ids[0] == "CLEVR_v1.0/images/val/CLEVR_val_000000.png"


def test_clevr_malformed(tmp_path):
    _clevr(tmp_path, counts=(3, 11))
    with pytest.raises(DataError, match="scene 1 .* has 11 objects"):
        read_clevr_count(tmp_path, "train")
    text(tmp_path / "CLEVR_v1.0" / "scenes" / "CLEVR_val_scenes.json", "[1, 2]")
    with pytest.raises(DataError, match="CLEVR_val_scenes.json: expected a JSON object"):
        read_clevr_count(tmp_path, "test")


# ------------------------------------------------------------------ Hateful Memes

def test_hateful_memes(tmp_path):
    lines = [{"id": 42953, "img": "img/42953.png", "label": 0, "text": "its their character not their color"},
             {"id": 23058, "img": "img/23058.png", "label": 1, "text": "x"}]
    text(tmp_path / "train.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    text(tmp_path / "dev.jsonl", json.dumps(lines[1]) + "\n")  # phase-1 name
    for r in lines:
        img(tmp_path / r["img"])
    train, test = read_hateful_memes(tmp_path, "train"), read_hateful_memes(tmp_path, "test")
    assert train.labels.tolist() == [0, 1] and test.labels.tolist() == [1]
    assert train.classnames == ["not hateful", "hateful"]
    text(tmp_path / "dev_seen.jsonl", '{"id": 1, "img": "img/42953.png", "label": 2}\n')  # phase 2 wins
    with pytest.raises(DataError, match="dev_seen.jsonl: line 1: label 2"):
        read_hateful_memes(tmp_path, "test")
    text(tmp_path / "dev_seen.jsonl", '{"id": 1, "img": "img/42953.png"\n')
    with pytest.raises(DataError, match="dev_seen.jsonl: line 1"):
        read_hateful_memes(tmp_path, "test")
    with pytest.raises(DataMissing, match="train.jsonl"):
        read_hateful_memes(tmp_path / "none", "train")
