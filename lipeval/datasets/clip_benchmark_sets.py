"""Zero-shot classification sets read from a local root through clip-benchmark's builder.

Class names and prompt templates come from clip-benchmark's own JSON files, resolved the way
its `build_dataset` resolves them (the builder sets `ds.classes` and `ds.templates`). Images
come from the builder's dataset with `transform=None`; labels are taken from the attributes
the dataset already holds (`targets`, `_labels`, `_samples`, ...) so no image is decoded
just to learn its label.

Nothing here ever downloads. Several clip-benchmark branches fetch data when a folder is
missing (ImageNet and ImageNetV2 via wget/requests, FER2013 via kaggle) or shell out to
external tools, so before the builder runs, the files listed in `LAYOUTS` are checked and a
`DataMissing` naming the expected path and layout is raised if any is absent. As a second
line of defence the builder's shell-out (`call`) and ImageNetV2's `requests` are replaced by
a function that refuses while the builder runs.

`resisc45` has no plain branch in the builder (only `vtab/resisc45`, which needs TFDS and
downloads from OneDrive), so it is read here from the extracted NWPU-RESISC45 folder, with
the class names the VTAB branch would use and the templates from clip-benchmark's JSON.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib.util
import threading
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lipeval.datasets.cb_text import cb_json
from lipeval.datasets.image_files import is_image_file
from lipeval.datasets.records import ClassificationData, FileImages, IndexedImages
from lipeval.errors import ConfigError, DataError, DataMissing

# --------------------------------------------------------------------------------------
# The per-dataset on-disk layouts (relative to the task's folder, which the reader gets as
# `root`). Each entry:
#   splits     split -> paths that must exist; "a/" is a folder, "x | y" means either one.
#   layout     what the folder holds, for error messages and docs/zeroshot_layouts.md.
#   names      where class names come from (as clip-benchmark resolves them).
#   templates  the key of en_zeroshot_classification_templates.json that supplies prompts.
#   reader     "builder" (clip-benchmark build_dataset) or "lipeval" (read here).
#   class_folders  for sets whose labels are folder positions but whose names are a fixed
#              list: the number of class folders that must be present, else labels and
#              names would not line up.
#   needs      optional Python packages the reading needs.
#   note       anything a user should know (split ignored by the builder, md5 checks, ...).
# --------------------------------------------------------------------------------------

_CIFAR10_FILES = [f"cifar-10-batches-py/{f}" for f in
                  ("batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                   "data_batch_5", "test_batch")]
_CIFAR100_FILES = [f"cifar-100-python/{f}" for f in ("meta", "train", "test")]
_MNIST_FILES = [f"MNIST/raw/{f}" for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")]
_STL10_FILES = [f"stl10_binary/{f}" for f in ("class_names.txt", "test_X.bin", "test_y.bin", "train_X.bin",
                                              "train_y.bin", "unlabeled_X.bin")]
_IMAGENET_META = "meta.bin | ILSVRC2012_devkit_t12.tar.gz"
_VOC_MAIN = "VOCdevkit/VOC2007/ImageSets/Main"

LAYOUTS: dict[str, dict[str, Any]] = {
    "imagenet1k": {
        "splits": {"test": ["val/", _IMAGENET_META], "train": ["train/", _IMAGENET_META]},
        "layout": "val/<wnid>/*.JPEG (the 50,000 validation images in 1,000 wnid folders) and meta.bin "
                  "(written by torchvision.datasets.ImageNet from ILSVRC2012_devkit_t12.tar.gz; the devkit "
                  "archive itself also works)",
        "names": "en_classnames.json `imagenet1k` (1000)",
        "templates": "imagenet1k",
        "reader": "builder",
        "note": "labels are mapped through the wnid folder names, so they stay right even if folders are missing",
    },
    "imagenetv2": {
        "splits": {"test": ["ImageNetV2-matched-frequency/"]},
        "layout": "ImageNetV2-matched-frequency/<class index 0..999>/*.jpeg (imagenetv2-matched-frequency.tar.gz "
                  "extracted and its folder renamed); exactly 10,000 .jpeg files",
        "names": "en_classnames.json `imagenet1k` (1000)",
        "templates": "imagenet1k",
        "reader": "builder",
        "note": "with any other file count clip-benchmark would download the archive, so that is refused here; "
                "images are read in sorted path order",
    },
    "cifar10": {
        "splits": {"test": _CIFAR10_FILES, "train": _CIFAR10_FILES},
        "layout": "cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} (cifar-10-python.tar.gz "
                  "extracted; torchvision checks the md5 of every batch, train batches included)",
        "names": "torchvision CIFAR10 classes (batches.meta)",
        "templates": "cifar10",
        "reader": "builder",
    },
    "cifar100": {
        "splits": {"test": _CIFAR100_FILES, "train": _CIFAR100_FILES},
        "layout": "cifar-100-python/{train, test, meta} (cifar-100-python.tar.gz extracted; md5-checked)",
        "names": "torchvision CIFAR100 classes (meta fine_label_names)",
        "templates": "cifar100",
        "reader": "builder",
    },
    "food101": {
        "splits": {s: [f"food-101/meta/{s}.json", "food-101/images/"] for s in ("train", "test")},
        "layout": "food-101/meta/{train,test}.json and food-101/images/<class>/*.jpg (food-101.tar.gz extracted)",
        "names": "torchvision Food101 classes with '_' -> ' '",
        "templates": "food101",
        "reader": "builder",
    },
    "sun397": {
        "splits": {"test": ["SUN397/ClassName.txt", "SUN397/"]},
        "layout": "SUN397/ClassName.txt and SUN397/<letter>/<class>[/<sub>]/sun_*.jpg (SUN397.tar.gz extracted)",
        "names": "torchvision SUN397 classes (ClassName.txt) with '_' and '/' -> ' '",
        "templates": "sun397",
        "reader": "builder",
        "note": "clip-benchmark has no split for SUN397: all 108,754 images are read (sorted path order)",
    },
    "cars": {
        "splits": {
            "test": ["stanford_cars/devkit/cars_meta.mat", "stanford_cars/cars_test_annos_withlabels.mat",
                     "stanford_cars/cars_test/"],
            "train": ["stanford_cars/devkit/cars_meta.mat", "stanford_cars/devkit/cars_train_annos.mat",
                      "stanford_cars/cars_train/"],
        },
        "layout": "stanford_cars/{devkit/cars_meta.mat, cars_test_annos_withlabels.mat, cars_test/*.jpg} "
                  "(torchvision StanfordCars layout; the original download URL is dead, obtain it manually)",
        "names": "torchvision StanfordCars classes (devkit/cars_meta.mat)",
        "templates": "cars",
        "reader": "builder",
        "needs": ["scipy"],
    },
    "fgvc_aircraft": {
        "splits": {s: ["fgvc-aircraft-2013b/data/variants.txt", f"fgvc-aircraft-2013b/data/images_variant_{s}.txt",
                       "fgvc-aircraft-2013b/data/images/"] for s in ("train", "val", "trainval", "test")},
        "layout": "fgvc-aircraft-2013b/data/{variants.txt, images_variant_<split>.txt, images/*.jpg} "
                  "(fgvc-aircraft-2013b.tar.gz extracted)",
        "names": "torchvision FGVCAircraft variant names (variants.txt, 100)",
        "templates": "fgvc_aircraft",
        "reader": "builder",
    },
    "dtd": {
        "splits": {s: [f"dtd/dtd/labels/{s}1.txt", "dtd/dtd/images/"] for s in ("train", "val", "test")},
        "layout": "dtd/dtd/{labels/<split>1.txt, images/<class>/*.jpg} (dtd-r1.0.1.tar.gz extracted into dtd/; "
                  "partition 1)",
        "names": "torchvision DTD classes (sorted class folders named in the split file, 47)",
        "templates": "dtd",
        "reader": "builder",
    },
    "pets": {
        "splits": {s: [f"oxford-iiit-pet/annotations/{s}.txt", "oxford-iiit-pet/images/"] for s in ("trainval", "test")},
        "layout": "oxford-iiit-pet/{annotations/{trainval,test}.txt, images/*.jpg} (images.tar.gz and "
                  "annotations.tar.gz extracted)",
        "names": "torchvision OxfordIIITPet classes (breed names, title case, 37)",
        "templates": "pets",
        "reader": "builder",
    },
    "caltech101": {
        "splits": {"test": ["caltech101/101_ObjectCategories/"]},
        "layout": "caltech101/101_ObjectCategories/<category>/image_NNNN.jpg, all 102 folders including "
                  "BACKGROUND_Google (101_ObjectCategories.tar.gz extracted)",
        "names": "en_classnames.json `caltech101` (102)",
        "templates": "caltech101",
        "reader": "builder",
        "class_folders": 102,
        "note": "clip-benchmark has no split here: the whole folder is read (background class kept)",
    },
    "flowers": {
        "splits": {s: ["flowers-102/jpg/", "flowers-102/imagelabels.mat", "flowers-102/setid.mat"]
                   for s in ("train", "val", "test")},
        "layout": "flowers-102/{jpg/image_NNNNN.jpg, imagelabels.mat, setid.mat} (102flowers.tgz extracted; "
                  "md5-checked .mat files)",
        "names": "en_classnames.json `flowers` (102)",
        "templates": "flowers",
        "reader": "builder",
        "needs": ["scipy"],
    },
    "mnist": {
        "splits": {"test": _MNIST_FILES, "train": _MNIST_FILES},
        "layout": "MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (the four IDX files, gunzipped; "
                  "torchvision wants all four)",
        "names": "en_classnames.json `mnist` (10)",
        "templates": "mnist",
        "reader": "builder",
    },
    "stl10": {
        "splits": {"test": _STL10_FILES, "train": _STL10_FILES},
        "layout": "stl10_binary/{test_X.bin, test_y.bin, train_X.bin, train_y.bin, unlabeled_X.bin, "
                  "class_names.txt} (stl10_binary.tar.gz extracted; torchvision md5-checks all five .bin files)",
        "names": "torchvision STL10 classes (class_names.txt)",
        "templates": "stl10",
        "reader": "builder",
    },
    "eurosat": {
        "splits": {"test": ["eurosat/2750/"]},
        "layout": "eurosat/2750/<class>/*.jpg, the 10 RGB class folders (EuroSAT.zip extracted into eurosat/)",
        "names": "en_classnames.json `eurosat` (10)",
        "templates": "eurosat",
        "reader": "builder",
        "class_folders": 10,
        "note": "clip-benchmark has no split for EuroSAT: all 27,000 images are read",
    },
    "gtsrb": {
        "splits": {"test": ["gtsrb/GTSRB/Final_Test/Images/", "gtsrb/GT-final_test.csv"],
                   "train": ["gtsrb/GTSRB/Training/"]},
        "layout": "gtsrb/{GTSRB/Final_Test/Images/*.ppm, GT-final_test.csv} (GTSRB_Final_Test_Images.zip and "
                  "GTSRB_Final_Test_GT.zip extracted into gtsrb/)",
        "names": "en_classnames.json `gtsrb` (43)",
        "templates": "gtsrb",
        "reader": "builder",
    },
    "country211": {
        "splits": {s: [f"country211/{s}/"] for s in ("train", "valid", "test")},
        "layout": "country211/{train,valid,test}/<ISO country code>/*.jpg, all 211 folders (country211.tgz "
                  "extracted)",
        "names": "en_classnames.json `country211` (211)",
        "templates": "country211",
        "reader": "builder",
        "class_folders": 211,
    },
    "renderedsst2": {
        "splits": {s: [f"rendered-sst2/{d}/negative/", f"rendered-sst2/{d}/positive/"]
                   for s, d in (("train", "train"), ("val", "valid"), ("test", "test"))},
        "layout": "rendered-sst2/{train,valid,test}/{negative,positive}/*.png (rendered-sst2.tgz extracted)",
        "names": "torchvision RenderedSST2 classes (negative, positive)",
        "templates": "renderedsst2",
        "reader": "builder",
    },
    "fer2013": {
        "splits": {s: [f"{s}/"] for s in ("train", "test")},
        "layout": "{train,test}/<emotion>/*.jpg with the 7 emotion folders (the Kaggle msambare/fer2013 archive "
                  "extracted into this folder)",
        "names": "en_classnames.json `fer2013` (7)",
        "templates": "fer2013",
        "reader": "builder",
        "class_folders": 7,
    },
    "voc2007_multilabel": {
        "splits": {s: [f"{_VOC_MAIN}/aeroplane_{s}.txt", "VOCdevkit/VOC2007/Annotations/",
                       "VOCdevkit/VOC2007/JPEGImages/"] for s in ("train", "test")},
        "layout": "VOCdevkit/VOC2007/{ImageSets/Main/aeroplane_<split>.txt, Annotations/*.xml, JPEGImages/*.jpg} "
                  "(VOCtest_06-Nov-2007.tar, and VOCtrainval for train, extracted)",
        "names": "clip-benchmark voc2007 object categories (20)",
        "templates": "voc2007_multilabel",
        "reader": "builder",
        "note": "multi-label: labels are an (N, 20) 0/1 matrix from every object in the XML annotations",
    },
    "resisc45": {
        "splits": {s: ["NWPU-RESISC45/"] for s in ("train", "val", "test")},
        "layout": "NWPU-RESISC45/<class>/<class>_NNN.jpg, 45 class folders (NWPU-RESISC45.rar extracted); "
                  "optional resisc45-<split>.txt listing the file names of a split (torchgeo split files)",
        "names": "TFDS resisc45 label names, underscores kept (as clip-benchmark's vtab/resisc45 uses them)",
        "templates": "resisc45",
        "reader": "lipeval",
        "note": "clip-benchmark only reads it through TFDS (vtab/resisc45), which downloads; without a "
                "resisc45-test.txt all 31,500 images are read (VTAB's TFDS test slice cannot be rebuilt "
                "without TFDS); train/val need their split file",
    },
    "pcam": {
        "splits": {s: [f"pcam/camelyonpatch_level_2_split_{f}_x.h5", f"pcam/camelyonpatch_level_2_split_{f}_y.h5"]
                   for s, f in (("train", "train"), ("val", "valid"), ("test", "test"))},
        "layout": "pcam/camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5 (the PatchCamelyon .h5.gz files "
                  "gunzipped)",
        "names": "en_classnames.json `pcam` (2)",
        "templates": "pcam",
        "reader": "builder",
        "needs": ["h5py"],
    },
}

# The 45 RESISC45 classes in TFDS label order (alphabetical folder names of NWPU-RESISC45).
RESISC45_CLASSES = [
    "airplane", "airport", "baseball_diamond", "basketball_court", "beach", "bridge", "chaparral", "church",
    "circular_farmland", "cloud", "commercial_area", "dense_residential", "desert", "forest", "freeway",
    "golf_course", "ground_track_field", "harbor", "industrial_area", "intersection", "island", "lake",
    "meadow", "medium_residential", "mobile_home_park", "mountain", "overpass", "palace", "parking_lot",
    "railway", "railway_station", "rectangular_farmland", "river", "roundabout", "runway", "sea_ice", "ship",
    "snowberg", "sparse_residential", "stadium", "storage_tank", "tennis_court", "terrace",
    "thermal_power_station", "wetland",
]

_IMAGENETV2_FILES = 10_000


def supported_datasets() -> list[str]:
    """The dataset names this reader accepts."""
    return list(LAYOUTS)


def layout_table() -> list[dict]:
    """One row per dataset for docs: task, folder, splits, required paths (test split), layout and sources."""
    rows = []
    for name, spec in LAYOUTS.items():
        default_split = "test" if "test" in spec["splits"] else next(iter(spec["splits"]))
        rows.append({
            "task": f"zeroshot/{name}",
            "dataset": name,
            "folder": name,
            "splits": list(spec["splits"]),
            "required": list(spec["splits"][default_split]),
            "layout": spec["layout"],
            "names": spec["names"],
            "templates": spec["templates"],
            "reader": spec["reader"],
            "needs": list(spec.get("needs", [])),
            "note": spec.get("note", ""),
        })
    return rows


def layout_markdown() -> str:
    """The markdown table written to docs/zeroshot_layouts.md."""
    lines = [
        "| task | folder | expected layout (under `<data-root>/<folder>/`) | class names / templates |",
        "|---|---|---|---|",
    ]
    for r in layout_table():
        layout = r["layout"]
        if r["note"]:
            layout += f". Note: {r['note']}"
        if r["needs"]:
            layout += f". Needs: {', '.join(r['needs'])}"
        if r["reader"] == "lipeval":
            layout += ". Read by lipeval itself, not by clip-benchmark's builder"
        src = f"{r['names']}; templates: en_zeroshot_classification_templates.json `{r['templates']}`"
        cells = [f"`{r['task']}`", f"`{r['folder']}/`", layout, src]
        cells = [c.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")
                 for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------
# Checks before anything is built
# --------------------------------------------------------------------------------------

def _check_name_split(dataset: str, split: str) -> dict:
    if dataset not in LAYOUTS:
        close = difflib.get_close_matches(dataset, list(LAYOUTS), n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"unknown clip_benchmark dataset {dataset!r}{hint} (supported: {', '.join(LAYOUTS)})"
        )
    spec = LAYOUTS[dataset]
    if split not in spec["splits"]:
        raise ConfigError(
            f"clip_benchmark dataset {dataset!r}: split {split!r} is not available locally "
            f"(available: {', '.join(spec['splits'])})"
        )
    return spec


def _check_layout(root: Path, dataset: str, split: str, spec: dict) -> None:
    """Raise DataMissing naming the first absent path; never lets the builder see a missing file."""
    where = f"{dataset} ({split}) expects under {root}: {spec['layout']}"
    if not root.is_dir():
        raise DataMissing(f"expected folder {root} ({where})")
    for entry in spec["splits"][split]:
        options = [o.strip() for o in entry.split("|")]
        found = False
        for opt in options:
            p = root / opt.rstrip("/")
            if (p.is_dir() if opt.endswith("/") else p.is_file()):
                found = True
                break
        if not found:
            shown = " or ".join(str(root / o.rstrip("/")) + ("/" if o.endswith("/") else "") for o in options)
            kind = "folder" if all(o.endswith("/") for o in options) else "file"
            raise DataMissing(f"expected {kind} {shown} ({where})")


def _check_extra(root: Path, dataset: str, split: str, spec: dict) -> None:
    """Dataset-specific checks that the path list cannot express."""
    if dataset == "imagenetv2":
        folder = root / "ImageNetV2-matched-frequency"
        n = sum(1 for _ in folder.glob("**/*.jpeg"))
        if n != _IMAGENETV2_FILES:
            # clip-benchmark would download the archive in this case; refuse instead.
            raise DataError(
                f"{folder} holds {n} .jpeg files, expected exactly {_IMAGENETV2_FILES:,} "
                f"({spec['layout']})"
            )
    for pkg in spec.get("needs", []):
        if importlib.util.find_spec(pkg) is None:
            raise DataMissing(
                f"{dataset}: the files under {root} are present, but reading them needs the Python package "
                f"{pkg!r}, which is not installed (pip install {pkg})"
            )


# --------------------------------------------------------------------------------------
# Class names and templates, resolved like clip-benchmark's builder does
# --------------------------------------------------------------------------------------

def _first_key(table: dict, keys: list[str]):
    for k in keys:
        if k in table:
            return table[k]
    return None


def _names_and_templates_for(keys: list[str], default_names: list[str], language: str,
                             custom_classname_file: str | None, custom_template_file: str | None):
    """For sets read here: the same precedence as the builder (custom file, then default JSON, then imagenet1k)."""
    if custom_template_file:
        templates = _first_key(cb_json(custom_template_file), keys + ["imagenet1k"])
    else:
        templates = _first_key(cb_json(f"{language}_zeroshot_classification_templates.json"), keys + ["imagenet1k"])
    names = default_names
    if custom_classname_file:
        custom = _first_key(cb_json(custom_classname_file), keys)
        if custom is not None:
            names = custom
    return list(names), templates


# --------------------------------------------------------------------------------------
# No downloads while the builder runs
# --------------------------------------------------------------------------------------

_BUILD_LOCK = threading.Lock()


@contextlib.contextmanager
def _downloads_refused(dataset: str, root: Path, layout: str):
    """Replace the builder's shell-out and ImageNetV2's HTTP client with a refusal while it runs."""
    from clip_benchmark.datasets import builder as cb_builder
    from clip_benchmark.datasets import imagenetv2 as cb_inv2

    def refuse(*args, **kwargs):
        what = str(args[0])[:120] if args else "a download"
        raise DataMissing(
            f"{dataset}: clip-benchmark tried to fetch data ({what}); lipeval never downloads. "
            f"Expected under {root}: {layout}"
        )

    with _BUILD_LOCK:
        saved_call, saved_requests = cb_builder.call, getattr(cb_inv2, "requests", None)
        cb_builder.call = refuse
        cb_inv2.requests = types.SimpleNamespace(get=refuse)
        try:
            yield
        finally:
            cb_builder.call = saved_call
            cb_inv2.requests = saved_requests


def _build(root: Path, dataset: str, split: str, spec: dict, **builder_kwargs):
    from clip_benchmark.datasets.builder import build_dataset

    where = f"expected under {root}: {spec['layout']}"
    try:
        with _downloads_refused(dataset, root, spec["layout"]), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*split argument ignored.*")
            return build_dataset(dataset, root=str(root), transform=None, split=split, download=False,
                                 task="zeroshot_classification", **builder_kwargs)
    except (DataMissing, DataError, ConfigError):
        raise
    except FileNotFoundError as e:
        raise DataMissing(f"{dataset}: {e.filename or e} not found ({where})") from None
    except ImportError as e:
        raise DataMissing(f"{dataset}: reading the files under {root} needs {e.name or e} ({e})") from None
    except RuntimeError as e:
        msg = str(e)
        if "not found" in msg.lower() and "corrupt" not in msg.lower():
            raise DataMissing(f"{dataset}: torchvision found no data under {root}: {msg} ({where})") from None
        raise DataError(f"{dataset}: data under {root} is incomplete or corrupted: {msg} ({where})") from None
    except SystemExit:
        raise DataMissing(f"{dataset}: clip-benchmark wanted an external download tool ({where})") from None
    except Exception as e:  # malformed pickles, .mat, XML, CSV, JSON ...
        raise DataError(f"{dataset}: cannot read the data under {root}: {type(e).__name__}: {e} ({where})") from None


# --------------------------------------------------------------------------------------
# Labels without decoding images
# --------------------------------------------------------------------------------------

class _ImageOf:
    """get(i) for IndexedImages: the image of item i (picklable, unlike a lambda)."""

    def __init__(self, ds):
        self.ds = ds

    def __call__(self, i: int):
        return self.ds[i][0]


def _stabilise_order(ds, dataset: str) -> None:
    """Sets whose file lists come from a filesystem walk are put in sorted path order."""
    if dataset == "imagenetv2":
        ds.fnames = sorted(ds.fnames)
    elif dataset == "sun397":
        pairs = sorted(zip(ds._image_files, ds._labels), key=lambda p: str(p[0]))
        ds._image_files = [p[0] for p in pairs]
        ds._labels = [p[1] for p in pairs]


def _labels_of(ds, dataset: str, root: Path) -> tuple[np.ndarray, str]:
    """Integer labels (or an (N, C) matrix) and the attribute they came from."""
    n = len(ds)
    if dataset == "voc2007_multilabel":
        lab = ds.labels
        lab = lab.numpy() if hasattr(lab, "numpy") else np.asarray(lab)
        return (lab > 0).astype(np.int64), "labels"
    if dataset == "imagenet1k":
        from clip_benchmark.datasets.builder import all_imagenet_wordnet_ids

        order = {w: i for i, w in enumerate(all_imagenet_wordnet_ids)}
        unknown = [w for w in ds.wnids if w not in order]
        if unknown:
            raise DataError(f"imagenet1k: folders {unknown[:3]} under {root} are not ImageNet-1k wnids")
        remap = np.asarray([order[w] for w in ds.wnids], dtype=np.int64)
        return remap[np.asarray(ds.targets, dtype=np.int64)], "targets via wnid"
    if dataset == "imagenetv2":
        return np.asarray([int(p.parent.name) for p in ds.fnames], dtype=np.int64), "fnames"
    if dataset == "pcam":
        import h5py

        fname = {"train": "train", "val": "valid", "test": "test"}[ds._split]
        with h5py.File(root / "pcam" / f"camelyonpatch_level_2_split_{fname}_y.h5", "r") as f:
            return np.asarray(f["y"][:]).reshape(-1).astype(np.int64), "y.h5"
    for attr in ("targets", "_labels", "labels", "y"):
        v = getattr(ds, attr, None)
        if v is not None and len(v) == n:
            v = v.numpy() if hasattr(v, "numpy") else v
            return np.asarray(v, dtype=np.int64).reshape(n), attr
    for attr in ("_samples", "samples"):
        v = getattr(ds, attr, None)
        if v is not None and len(v) == n:
            return np.asarray([s[1] for s in v], dtype=np.int64), attr
    # Last resort: read every item (decodes the images).
    return np.asarray([int(ds[i][1]) for i in range(n)], dtype=np.int64), "iteration"


def _class_folder_count(ds) -> int | None:
    cats = getattr(ds, "categories", None)
    if cats is not None:
        return len(cats)
    c2i = getattr(ds, "class_to_idx", None)
    return len(c2i) if isinstance(c2i, dict) else None


# --------------------------------------------------------------------------------------
# RESISC45, read here
# --------------------------------------------------------------------------------------

def _read_resisc45(root: Path, split: str, spec: dict, language: str,
                   custom_classname_file: str | None, custom_template_file: str | None) -> ClassificationData:
    base = root / "NWPU-RESISC45"
    index = {c: i for i, c in enumerate(RESISC45_CLASSES)}
    folders = sorted(p.name for p in base.iterdir() if p.is_dir())
    unknown = [f for f in folders if f not in index]
    if unknown:
        raise DataError(f"resisc45: unexpected class folders {unknown[:5]} in {base} ({spec['layout']})")
    if not folders:
        raise DataMissing(f"resisc45: no class folders in {base} ({spec['layout']})")
    split_file = root / f"resisc45-{split}.txt"
    relpaths: list[str] = []
    labels: list[int] = []
    if split_file.is_file():
        with open(split_file, encoding="utf-8") as f:
            wanted = [line.strip() for line in f if line.strip()]
        longest_first = sorted(index, key=len, reverse=True)  # railway_station_ before railway_
        for name in wanted:
            fname = Path(name).name
            cls = next((c for c in longest_first if fname.startswith(c + "_")), None)
            if cls is None:
                raise DataError(f"{split_file}: cannot tell the class of {name!r} (expected <class>_NNN.jpg)")
            relpaths.append(f"NWPU-RESISC45/{cls}/{fname}")
            labels.append(index[cls])
        note = f"split from {split_file.name} ({len(relpaths)} images)"
    elif split != "test":
        raise DataMissing(
            f"resisc45: split {split!r} needs the split list {split_file} (one file name per line); "
            f"without it only 'test' (the whole set) can be read"
        )
    else:
        for cls in folders:
            for p in sorted((base / cls).iterdir()):
                if p.is_file() and is_image_file(p):
                    relpaths.append(f"NWPU-RESISC45/{cls}/{p.name}")
                    labels.append(index[cls])
        note = f"no {split_file.name}: the whole set is read ({len(relpaths)} images)"
        if len(folders) != len(RESISC45_CLASSES):
            note += f"; only {len(folders)} of {len(RESISC45_CLASSES)} class folders present"
    images = FileImages(root, relpaths)
    images.check_exist(str(split_file) if split_file.is_file() else str(base))
    classnames, templates = _names_and_templates_for(
        ["vtab/resisc45", "resisc45"], RESISC45_CLASSES, language, custom_classname_file, custom_template_file
    )
    return _finish("resisc45", root, images, np.asarray(labels, dtype=np.int64), classnames, templates,
                   {"dataset": "resisc45", "split": split, "reader": "lipeval", "split_note": note,
                    "label_source": "class folder"},
                   custom_template_file)


def _finish(dataset: str, root: Path, images, labels, classnames, templates, extra: dict,
            custom_template_file: str | None) -> ClassificationData:
    if templates is None:
        raise ConfigError(f"{dataset}: no prompt templates found in clip-benchmark's template file")
    if isinstance(templates, dict):
        missing = [c for c in classnames if c not in templates]
        if missing:
            raise ConfigError(
                f"{dataset}: the per-class prompts in {custom_template_file or 'the template file'} do not cover "
                f"the class names (first missing: {missing[:3]})"
            )
        templates = {c: list(templates[c]) for c in classnames}
    else:
        templates = list(templates)
    return ClassificationData(
        images=images,
        labels=labels,
        classnames=list(classnames),
        templates=templates,
        source=f"clip_benchmark:{dataset} at {root}",
        extra=extra,
    )


# --------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------

def read_clip_benchmark(
    root: Path,
    dataset: str,
    split: str = "test",
    language: str = "en",
    custom_classname_file: str | None = None,
    custom_template_file: str | None = None,
) -> ClassificationData:
    """Read the clip-benchmark classification set `dataset` from the local folder `root`.

    `custom_template_file` may name clip-benchmark's `cupl_prompts.json` (per-class prompts)
    or any JSON of the same shape; it is resolved as the builder resolves it.
    """
    spec = _check_name_split(dataset, split)
    root = Path(root).expanduser()
    _check_layout(root, dataset, split, spec)
    _check_extra(root, dataset, split, spec)
    root = root.resolve()

    if dataset == "resisc45":
        return _read_resisc45(root, split, spec, language, custom_classname_file, custom_template_file)

    kwargs: dict[str, Any] = {"language": language}
    if custom_classname_file:
        kwargs["custom_classname_file"] = custom_classname_file
    if custom_template_file:
        kwargs["custom_template_file"] = custom_template_file
    ds = _build(root, dataset, split, spec, **kwargs)
    _stabilise_order(ds, dataset)

    expected_folders = spec.get("class_folders")
    if expected_folders is not None:
        found = _class_folder_count(ds)
        if found is not None and found != expected_folders:
            raise DataError(
                f"{dataset}: found {found} class folders under {root}, expected {expected_folders}; the fixed "
                f"class-name list would not line up with the labels ({spec['layout']})"
            )

    labels, label_source = _labels_of(ds, dataset, root)
    extra = {"dataset": dataset, "split": split, "reader": "builder", "label_source": label_source}
    if spec.get("note"):
        extra["note"] = spec["note"]
    if dataset == "flowers":
        # Current torchvision labels are 0-based; clip-benchmark's shift for old versions (decided
        # from the first item's label) is not reproduced.
        if len(labels) and labels.min() >= 1 and labels.max() == len(ds.classes):
            labels = labels - 1
        if getattr(ds, "target_transform", None) is not None:
            extra["note"] = "clip-benchmark's label shift for old torchvision was triggered and is not applied"

    key = f"clip_benchmark:{dataset}:{split}"
    images = IndexedImages(_ImageOf(ds), len(ds), key)
    return _finish(dataset, root, images, labels, list(ds.classes), ds.templates, extra, custom_template_file)


__all__ = ["LAYOUTS", "RESISC45_CLASSES", "layout_markdown", "layout_table", "read_clip_benchmark",
           "supported_datasets"]
