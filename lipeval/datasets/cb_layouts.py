"""The table of clip-benchmark classification sets lipeval reads: for each, its on-disk layout and splits,
where its class names and templates come from, and who reads it (clip-benchmark's builder or lipeval).

One table, so that the reader's checks, its error messages and docs/zeroshot_layouts.md
(`layout_markdown()`) all say the same thing. Importing it costs neither torch nor clip-benchmark.
"""
from __future__ import annotations

import difflib
from typing import Any

from lipeval.errors import ConfigError

# --------------------------------------------------------------------------------------
# The per-dataset on-disk layouts (relative to the task's folder, which the reader gets as
# `root`). Each entry:
#   splits     split -> paths that must exist; "a/" is a folder, "x | y" means either one.
#   layout     what the folder holds, for error messages and docs/zeroshot_layouts.md.
#   names      where class names come from (as clip-benchmark resolves them).
#   templates  the key of en_zeroshot_classification_templates.json that supplies prompts.
#   reader     "builder" (clip-benchmark build_dataset, cb_builder) or "lipeval" (cb_resisc45).
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
        "splits": {s: [f"oxford-iiit-pet/annotations/{s}.txt", "oxford-iiit-pet/images/"]
                   for s in ("trainval", "test")},
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


def spec_for(dataset: str, split: str) -> dict:
    """The table entry of `dataset`; ConfigError (with close names) for an unknown set or a split it lacks."""
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
