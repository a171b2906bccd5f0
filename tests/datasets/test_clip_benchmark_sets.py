"""clip_benchmark reader: tiny fake roots in the official on-disk formats, never any network."""
from __future__ import annotations

import json
import pickle
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lipeval.datasets.cb_layouts import LAYOUTS, layout_markdown, layout_table
from lipeval.datasets.cb_resisc45 import RESISC45_CLASSES
from lipeval.datasets.clip_benchmark_sets import read_clip_benchmark
from lipeval.errors import ConfigError, DataError, DataMissing

MAIN = Path(__file__).resolve().parents[2]

# docs/protocols.md §C.1: templates per dataset in en_zeroshot_classification_templates.json
# (a dataset missing from the file falls back to imagenet1k's 80).
TEMPLATE_COUNTS = {
    "imagenet1k": 80, "imagenetv2": 80, "cifar10": 18, "cifar100": 18, "food101": 1, "sun397": 2, "cars": 8,
    "fgvc_aircraft": 2, "dtd": 8, "pets": 1, "caltech101": 34, "flowers": 1, "mnist": 1, "stl10": 2,
    "eurosat": 3, "gtsrb": 3, "country211": 5, "renderedsst2": 1, "voc2007_multilabel": 1, "fer2013": 6,
    "pcam": 2, "resisc45": 4,
}
REQUIRED_NAMES = set(TEMPLATE_COUNTS)

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
EUROSAT_FOLDERS = ["AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial", "Pasture",
                   "PermanentCrop", "Residential", "River", "SeaLake"]


def cb_json(name: str):
    import clip_benchmark.datasets as cbd

    return json.loads((Path(cbd.__file__).parent / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- no network, no shell


@pytest.fixture
def offline(monkeypatch):
    """Any socket connection or external command is a test failure (and recorded)."""
    # Import the heavy libraries first: torch's import runs ldconfig through subprocess.
    import clip_benchmark.datasets.builder  # noqa: F401
    import torchvision.datasets  # noqa: F401

    attempts: list[str] = []

    def refuse(what):
        def _f(*a, **k):
            attempts.append(f"{what}{a[:1]}")
            pytest.fail(f"network/subprocess attempted: {what} {a[:1]}")
        return _f

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(subprocess, "call", refuse("subprocess.call"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    import clip_benchmark.datasets.builder as cb_builder

    monkeypatch.setattr(cb_builder, "call", refuse("clip_benchmark builder call"))
    yield attempts
    assert attempts == []


# ------------------------------------------------------------------------- fixtures in official formats


def write_jpg(path: Path, color=(200, 30, 30), size: int = 8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), color).save(path, format="JPEG")
    return path


def make_cifar10(root: Path, test_labels=(3, 1, 9, 0)) -> np.ndarray:
    """cifar-10-batches-py with python pickle batches; returns the test images (N, 32, 32, 3)."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(labels):
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        entry = {"batch_label": "fake", "labels": list(labels), "data": data,
                 "filenames": [f"img_{i}.png" for i in range(len(labels))]}
        return entry, data

    for i in range(1, 6):
        with open(d / f"data_batch_{i}", "wb") as f:
            pickle.dump(batch([0, 1])[0], f, protocol=2)
    entry, data = batch(test_labels)
    with open(d / "test_batch", "wb") as f:
        pickle.dump(entry, f, protocol=2)
    with open(d / "batches.meta", "wb") as f:
        pickle.dump({"num_cases_per_batch": 10000, "label_names": CIFAR10_NAMES, "num_vis": 3072}, f, protocol=2)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def make_mnist(root: Path, test_labels=(7, 2, 1)) -> np.ndarray:
    """MNIST/raw with the four uncompressed IDX files; returns the test images."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)

    def write(prefix, labels):
        imgs = rng.integers(0, 256, size=(len(labels), 28, 28), dtype=np.uint8)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x0803, len(labels), 28, 28)
                                                          + imgs.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x0801, len(labels))
                                                          + bytes(labels))
        return imgs

    write("train", [5, 0])
    return write("t10k", list(test_labels))


def make_imagenet(root: Path, wnids=("n01440764", "n01443537", "n15075141")) -> None:
    """val/<wnid>/*.JPEG plus the meta.bin torchvision writes from the devkit."""
    import torch

    for k, w in enumerate(wnids):
        write_jpg(root / "val" / w / f"ILSVRC2012_val_{k + 1:08d}.JPEG", color=(10 * k, 50, 90))
    wnid_to_classes = {w: (f"class of {w}",) for w in wnids}
    torch.save((wnid_to_classes, list(wnids)), root / "meta.bin")


VOC_XML = """<annotation>
  <folder>VOC2007</folder>
  <filename>{fid}.jpg</filename>
  <size><width>8</width><height>8</height><depth>3</depth></size>
{objects}</annotation>
"""
VOC_OBJ = """  <object>
    <name>{name}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>6</xmax><ymax>7</ymax></bndbox>
  </object>
"""


def make_voc(root: Path, objects: dict[str, list[str]]) -> None:
    """VOCdevkit/VOC2007 with an aeroplane_test.txt, one XML per image and the JPEGs."""
    voc = root / "VOCdevkit" / "VOC2007"
    (voc / "ImageSets" / "Main").mkdir(parents=True)
    (voc / "Annotations").mkdir(parents=True)
    lines = []
    for fid, names in objects.items():
        lines.append(f"{fid} {' 1' if 'aeroplane' in names else '-1'}")
        xml = VOC_XML.format(fid=fid, objects="".join(VOC_OBJ.format(name=n) for n in names))
        (voc / "Annotations" / f"{fid}.xml").write_text(xml, encoding="utf-8")
        write_jpg(voc / "JPEGImages" / f"{fid}.jpg")
    (voc / "ImageSets" / "Main" / "aeroplane_test.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_eurosat(root: Path, folders=EUROSAT_FOLDERS) -> list[int]:
    """eurosat/2750/<class>/<class>_N.jpg; returns the expected labels (ImageFolder order)."""
    labels = []
    for i, c in enumerate(sorted(folders)):
        for k in range(2 if c == "Forest" else 1):
            write_jpg(root / "eurosat" / "2750" / c / f"{c}_{k + 1}.jpg", color=(i * 20, 100, 50))
            labels.append(i)
    return labels


@pytest.fixture
def cifar_md5_ignored(monkeypatch):
    """torchvision md5-checks every CIFAR batch; fake batches can only pass with presence checks."""
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda fpath, md5=None: Path(fpath).is_file())


# ------------------------------------------------------------------------- reading real formats


def test_cifar10(tmp_path, offline, cifar_md5_ignored):
    root = tmp_path / "cifar10"
    images = make_cifar10(root)
    data = read_clip_benchmark(root, "cifar10")
    assert data.labels.tolist() == [3, 1, 9, 0]
    assert data.classnames == CIFAR10_NAMES
    assert len(data.templates) == TEMPLATE_COUNTS["cifar10"] == len(cb_json(
        "en_zeroshot_classification_templates.json")["cifar10"])
    assert all("{c}" in t for t in data.templates)
    assert len(data.images) == 4 and data.images.key == "clip_benchmark:cifar10:test"
    im = data.images.load(2)
    assert im.size == (32, 32) and np.array_equal(np.asarray(im), images[2])
    assert data.extra["label_source"] == "targets"
    sub = data.limit(2)
    assert len(sub.images) == 2 and sub.labels.tolist() == [3, 1]


def test_builder_sets_are_fingerprinted_by_content_not_path(tmp_path, offline, cifar_md5_ignored):
    make_cifar10(tmp_path / "a" / "cifar10")
    key = read_clip_benchmark(tmp_path / "a" / "cifar10", "cifar10").images.fingerprint()
    moved = shutil.copytree(tmp_path / "a" / "cifar10", tmp_path / "b" / "cifar10")
    assert read_clip_benchmark(moved, "cifar10").images.fingerprint() == key
    batch = moved / "cifar-10-batches-py" / "test_batch"
    entry = pickle.loads(batch.read_bytes())
    entry["data"][3, 0] ^= 1  # one pixel of the last image
    batch.write_bytes(pickle.dumps(entry, protocol=2))
    assert read_clip_benchmark(moved, "cifar10").images.fingerprint() != key
    assert read_clip_benchmark(tmp_path / "a" / "cifar10", "cifar10").limit(2).images.fingerprint() != key


def test_cifar10_failing_md5_is_a_data_error(tmp_path, offline):
    root = tmp_path / "cifar10"
    make_cifar10(root)
    with pytest.raises(DataError, match="corrupted") as e:
        read_clip_benchmark(root, "cifar10")
    assert str(root.resolve()) in str(e.value)


def test_mnist(tmp_path, offline):
    root = tmp_path / "mnist"
    imgs = make_mnist(root)
    data = read_clip_benchmark(root, "mnist")
    assert data.labels.tolist() == [7, 2, 1]
    assert data.classnames == cb_json("en_classnames.json")["mnist"] and len(data.classnames) == 10
    assert len(data.templates) == TEMPLATE_COUNTS["mnist"]
    assert np.array_equal(np.asarray(data.images.load(1).convert("L")), imgs[1])


def test_imagenet1k_labels_follow_wnids(tmp_path, offline):
    root = tmp_path / "imagenet1k"
    make_imagenet(root)
    data = read_clip_benchmark(root, "imagenet1k")
    # tench = 0, goldfish = 1, toilet tissue (n15075141) = 999 in the 1,000-class order
    assert data.labels.tolist() == [0, 1, 999]
    names = cb_json("en_classnames.json")["imagenet1k"]
    assert data.classnames == names and data.classnames[:2] == ["tench", "goldfish"]
    assert len(data.templates) == TEMPLATE_COUNTS["imagenet1k"]
    assert data.images.load(0).size == (8, 8)


def test_imagenet1k_cupl_prompts(tmp_path, offline):
    root = tmp_path / "imagenet1k"
    make_imagenet(root)
    data = read_clip_benchmark(root, "imagenet1k", custom_template_file="cupl_prompts.json")
    assert isinstance(data.templates, dict) and set(data.templates) == set(data.classnames)
    assert all(isinstance(p, list) and p for p in data.templates.values())


def test_cupl_prompts_that_do_not_fit_the_classes(tmp_path, offline, cifar_md5_ignored):
    root = tmp_path / "cifar10"
    make_cifar10(root)
    with pytest.raises(ConfigError, match="per-class prompts"):
        read_clip_benchmark(root, "cifar10", custom_template_file="cupl_prompts.json")


def test_voc2007_multilabel(tmp_path, offline):
    root = tmp_path / "voc2007_multilabel"
    make_voc(root, {"000001": ["dog", "person"], "000002": ["aeroplane", "aeroplane"], "000004": ["cat"]})
    data = read_clip_benchmark(root, "voc2007_multilabel")
    assert data.multilabel and data.labels.shape == (3, 20)
    cats = data.classnames
    assert len(cats) == 20 and cats[:3] == ["aeroplane", "bicycle", "bird"]
    assert [sorted(cats[j] for j in np.flatnonzero(row)) for row in data.labels] == [
        ["dog", "person"], ["aeroplane"], ["cat"]]
    assert set(np.unique(data.labels)) <= {0, 1}
    assert len(data.templates) == TEMPLATE_COUNTS["voc2007_multilabel"]
    assert data.images.load(1).mode == "RGB"


def test_voc_malformed_xml_is_a_data_error(tmp_path, offline):
    root = tmp_path / "voc2007_multilabel"
    make_voc(root, {"000001": ["dog"]})
    (root / "VOCdevkit/VOC2007/Annotations/000001.xml").write_text("<annotation><object>", encoding="utf-8")
    with pytest.raises(DataError, match="voc2007_multilabel"):
        read_clip_benchmark(root, "voc2007_multilabel")


def test_eurosat_image_folder(tmp_path, offline):
    root = tmp_path / "eurosat"
    expected = make_eurosat(root)
    data = read_clip_benchmark(root, "eurosat")
    assert data.labels.tolist() == expected == [0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    names = cb_json("en_classnames.json")["eurosat"]
    assert data.classnames == names and data.classnames[0] == "annual crop land"
    assert len(data.templates) == TEMPLATE_COUNTS["eurosat"]


def test_eurosat_missing_class_folder_is_a_data_error(tmp_path, offline):
    root = tmp_path / "eurosat"
    make_eurosat(root, folders=EUROSAT_FOLDERS[:-1])
    with pytest.raises(DataError, match="found 9 class folders.*expected 10"):
        read_clip_benchmark(root, "eurosat")


def test_resisc45_whole_set_and_split_file(tmp_path, offline):
    root = tmp_path / "resisc45"
    for c in ("airplane", "railway_station", "wetland"):
        for k in (1, 2):
            write_jpg(root / "NWPU-RESISC45" / c / f"{c}_{k:03d}.jpg")
    data = read_clip_benchmark(root, "resisc45")
    assert data.labels.tolist() == [0, 0, 30, 30, 44, 44]
    assert data.classnames == RESISC45_CLASSES and len(data.classnames) == 45
    assert data.templates == cb_json("en_zeroshot_classification_templates.json")["resisc45"]
    assert len(data.templates) == TEMPLATE_COUNTS["resisc45"]
    assert "whole set" in data.extra["split_note"]
    (root / "resisc45-test.txt").write_text("railway_station_002.jpg\nairplane_001.jpg\n", encoding="utf-8")
    data = read_clip_benchmark(root, "resisc45")
    assert data.labels.tolist() == [30, 0] and data.images.ids[0] == "NWPU-RESISC45/railway_station/railway_station_002.jpg"
    with pytest.raises(DataMissing, match="resisc45-train.txt"):
        read_clip_benchmark(root, "resisc45", split="train")


def test_imagenetv2_incomplete_folder_is_refused_not_downloaded(tmp_path, offline):
    root = tmp_path / "imagenetv2"
    for c in ("0", "17"):
        write_jpg(root / "ImageNetV2-matched-frequency" / c / "a.jpeg")
    with pytest.raises(DataError, match="2 .jpeg files, expected exactly 10,000"):
        read_clip_benchmark(root, "imagenetv2")
    assert not (root / "ImageNetV2-matched-frequency.tar.gz").exists()


def test_pcam_without_h5py_is_skipped(tmp_path, offline):
    import importlib.util

    if importlib.util.find_spec("h5py") is not None:
        pytest.skip("h5py is installed")
    root = tmp_path / "pcam"
    for xy in "xy":
        p = root / "pcam" / f"camelyonpatch_level_2_split_test_{xy}.h5"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
    with pytest.raises(DataMissing, match="h5py"):
        read_clip_benchmark(root, "pcam")


def test_gtsrb_test_csv(tmp_path, offline):
    root = tmp_path / "gtsrb"
    imgs = root / "gtsrb" / "GTSRB" / "Final_Test" / "Images"
    for k in range(3):
        imgs.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (k * 40, 0, 0)).save(imgs / f"{k:05d}.ppm", format="PPM")
    (root / "gtsrb" / "GT-final_test.csv").write_text(
        "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
        "00000.ppm;8;8;0;0;7;7;16\n00001.ppm;8;8;0;0;7;7;1\n00002.ppm;8;8;0;0;7;7;42\n", encoding="utf-8")
    data = read_clip_benchmark(root, "gtsrb")
    assert data.labels.tolist() == [16, 1, 42] and data.extra["label_source"] == "_samples"
    assert data.classnames == cb_json("en_classnames.json")["gtsrb"] and len(data.classnames) == 43
    assert len(data.templates) == TEMPLATE_COUNTS["gtsrb"]
    assert data.images.load(1).getpixel((0, 0)) == (40, 0, 0)


def test_builder_downloads_are_refused_while_it_runs(tmp_path, offline):
    import clip_benchmark.datasets.builder as cb_builder
    import clip_benchmark.datasets.imagenetv2 as cb_inv2

    from lipeval.datasets import cb_builder as m

    before = (cb_builder.call, cb_inv2.requests)
    with pytest.raises(DataMissing, match="never downloads"):
        with m._downloads_refused("imagenet1k", tmp_path, "val/<wnid>/"):
            cb_builder.call("wget https://image-net.org/x.tar", shell=True)
    with pytest.raises(DataMissing, match="never downloads"):
        with m._downloads_refused("imagenetv2", tmp_path, "ImageNetV2-matched-frequency/"):
            cb_inv2.requests.get("https://huggingface.co/x.tar.gz", stream=True)
    assert (cb_builder.call, cb_inv2.requests) == before


# ------------------------------------------------------------------------- missing data, every name


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_missing_root_names_the_path(tmp_path, offline, name):
    root = tmp_path / "nowhere" / name
    with pytest.raises(DataMissing) as e:
        read_clip_benchmark(root, name)
    assert str(root) in str(e.value)
    assert not root.exists()  # nothing was created (some builders makedirs before downloading)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_empty_root_names_the_expected_file(tmp_path, offline, name):
    root = tmp_path / name
    root.mkdir()
    with pytest.raises(DataMissing) as e:
        read_clip_benchmark(root, name)
    first = LAYOUTS[name]["splits"]["test"][0].split("|")[0].strip().rstrip("/")
    assert str(root / first) in str(e.value)
    assert LAYOUTS[name]["layout"] in str(e.value)
    assert list(root.iterdir()) == []  # nothing written into the data root


def test_required_names_are_registered():
    assert REQUIRED_NAMES <= set(LAYOUTS)
    assert all("test" in spec["splits"] for spec in LAYOUTS.values())


# ------------------------------------------------------------------------- config errors


@pytest.mark.parametrize("wrong, right", [("cifar-10", "cifar10"), ("imagenet", "imagenet1k"),
                                          ("voc2007", "voc2007_multilabel"), ("fgvc-aircraft", "fgvc_aircraft")])
def test_unknown_name_suggests_close_match(tmp_path, wrong, right):
    with pytest.raises(ConfigError, match=f"did you mean .*'{right}'"):
        read_clip_benchmark(tmp_path, wrong)


def test_unknown_split(tmp_path):
    with pytest.raises(ConfigError, match="split 'validation'.*available: test, train"):
        read_clip_benchmark(tmp_path, "cifar10", split="validation")


# ------------------------------------------------------------------------- task configs and docs


def _zeroshot_tasks() -> dict:
    from lipeval.registry import load_registry

    return {n.partition("/")[2]: t for n, t in load_registry()[0].items() if n.startswith("zeroshot/")}


def test_one_task_config_per_dataset():
    assert set(_zeroshot_tasks()) == set(LAYOUTS)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_task_config_schema(name):
    t = _zeroshot_tasks()[name]  # the file with its folder's _defaults.yaml applied
    assert t.name == f"zeroshot/{name}" and t.version == 1 and t.kind == "zeroshot_classification"
    assert t.groups == ("zeroshot",) and t.description and t.family == "zeroshot_classification"
    assert (t.folder, t.reader, t.args) == (name, "clip_benchmark", {"dataset": name})
    assert t.main_metric == ("mAP" if name == "voc2007_multilabel" else "acc1") and t.protocol == {}


def test_layout_table_and_docs_agree():
    rows = layout_table()
    assert [r["dataset"] for r in rows] == list(LAYOUTS)
    assert all(r["task"] == f"zeroshot/{r['dataset']}" and r["folder"] == r["dataset"] and r["required"]
               for r in rows)
    docs = (MAIN / "docs" / "zeroshot_layouts.md").read_text(encoding="utf-8")
    assert layout_markdown() in docs, "docs/zeroshot_layouts.md is stale: regenerate it from layout_markdown()"


def test_module_import_stays_torch_free():
    code = ("import sys, lipeval.datasets.clip_benchmark_sets, lipeval.datasets.cb_layouts as m; m.layout_table(); "
            "sys.exit(1 if 'torch' in sys.modules or 'clip_benchmark' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=MAIN).returncode == 0
