"""Webdataset reader on shards written by CLIP_benchmark's own converter."""
from __future__ import annotations

import io
import shutil
import tarfile

import numpy as np
import pytest
from PIL import Image

from lipeval.datasets.wds import TarImages, read_wds
from lipeval.errors import DataError, DataMissing

pytestmark = [
    pytest.mark.filterwarnings("ignore:This DataLoader will create"),
    pytest.mark.filterwarnings("ignore:WebDataset\\(shardshuffle"),
]

COLORS = [(10 * i, 255 - 10 * i, 3 * i) for i in range(5)]
CLASSES = ["cat", "dog", "cow"]
TEMPLATES = ["a photo of a {c}.", "a blurry photo of a {c}."]
CAPTIONS = [["red thing", "a red, thing"], ["green"], ["blue one", "two", "three"], ["x"], ["y", "z"]]
MULTI = [[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 1], [0, 0, 1]]


def png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="png")
    return buf.getvalue()


class _Set:
    """A map-style dataset with the attributes convert_dataset looks for."""

    def __init__(self, targets, classes=None, templates=None):
        self.items = [(png(c), t) for c, t in zip(COLORS, targets)]
        self.classes, self.templates = classes, templates

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Classification, multilabel and retrieval folders, 2 samples per shard (3 shards)."""
    from clip_benchmark.webdataset_builder import convert_dataset, convert_retrieval_dataset

    base = tmp_path_factory.mktemp("wds")
    kw = dict(image_format="png", max_count=2, verbose=False)
    convert_dataset(_Set([0, 2, 1, 1, 0], CLASSES, TEMPLATES), "test", str(base / "cls"), **kw)
    convert_dataset(
        _Set([np.array(m) for m in MULTI], CLASSES, TEMPLATES), "test", str(base / "multi"), multilabel=True, **kw
    )
    convert_retrieval_dataset(_Set(CAPTIONS), "test", str(base / "ret"), **kw)
    return base


@pytest.fixture
def copy(built, tmp_path):
    def make(name):
        return shutil.copytree(built / name, tmp_path / name)

    return make


def test_classification(built):
    assert not (built / "cls" / "dataset_type.txt").exists()  # classification is the default
    data = read_wds(built / "cls")
    assert data.images.ids == [f"s{i:07d}" for i in range(5)]
    np.testing.assert_array_equal(data.labels, [0, 2, 1, 1, 0])
    assert data.classnames == CLASSES and data.templates == TEMPLATES
    assert [data.images.load(i).getpixel((3, 3)) for i in (4, 0)] == [COLORS[4], COLORS[0]]
    assert [data.images.load(i).getpixel((0, 0)) for i in range(5)] == COLORS
    assert len(data.extra["shards"]) == 3


def test_matches_clip_benchmark_loader(built):
    from clip_benchmark.datasets.builder import build_wds_dataset

    for name in ("cls", "ret"):
        ours = read_wds(built / name)
        ref = list(build_wds_dataset(name, transform=None, data_dir=str(built / name)))
        assert [im.getpixel((0, 0)) for im, _ in ref] == [ours.images.load(i).getpixel((0, 0)) for i in range(len(ours.images))]
        if name == "cls":
            assert [t for _, t in ref] == list(ours.labels)
        else:
            assert [c for _, caps in ref for c in caps] == ours.texts


def test_multilabel(built):
    data = read_wds(built / "multi")
    assert data.multilabel and data.labels.shape == (5, 3)
    np.testing.assert_array_equal(data.labels, MULTI)


def test_retrieval(built):
    data = read_wds(built / "ret")
    assert data.texts == [c for caps in CAPTIONS for c in caps]
    assert data.text_image == [0, 0, 1, 2, 2, 2, 3, 4, 4]
    sub = data.limit(3)
    assert len(sub.images) == 3 and sub.texts == ["red thing", "a red, thing", "green", "blue one", "two", "three"]
    assert [sub.images.load(i).getpixel((0, 0)) for i in range(3)] == COLORS[:3]


def test_limit_and_fingerprint(built, tmp_path):
    data = read_wds(built / "cls")
    sub = data.limit(2)
    assert isinstance(sub.images, TarImages) and sub.images.ids == ["s0000000", "s0000001"]
    assert list(sub.labels) == [0, 2] and sub.images.load(1).getpixel((0, 0)) == COLORS[1]
    assert sub.images.fingerprint() != data.images.fingerprint()
    assert read_wds(built / "cls").images.fingerprint() == data.images.fingerprint()
    moved = shutil.copytree(built / "cls", tmp_path / "moved" / "cls")  # the same shards elsewhere: the same key
    assert read_wds(moved).images.fingerprint() == data.images.fingerprint()
    assert read_wds(built / "multi").images.fingerprint() != data.images.fingerprint()


def test_missing_pieces(copy, tmp_path):
    with pytest.raises(DataMissing, match=r"expected folder .*test"):
        read_wds(tmp_path / "nothing")
    root = copy("cls")
    with pytest.raises(DataMissing, match="expected folder .*train"):
        read_wds(root, split="train")
    (root / "test" / "nshards.txt").unlink()
    assert len(read_wds(root).images) == 5  # without nshards.txt every *.tar is used, in numeric order
    (root / "zeroshot_classification_templates.txt").unlink()
    with pytest.raises(DataMissing, match="zeroshot_classification_templates.txt"):
        read_wds(root)
    (root / "classnames.txt").unlink()
    with pytest.raises(DataMissing, match="classnames.txt"):
        read_wds(root)
    for t in (root / "test").glob("*.tar"):
        t.unlink()
    with pytest.raises(DataMissing, match="no shards"):
        read_wds(root)


def test_nshards_mismatch(copy):
    root = copy("cls")
    (root / "test" / "1.tar").unlink()
    with pytest.raises(DataError, match=r"nshards\.txt says 3 shards .* 1 are missing .*1\.tar"):
        read_wds(root)
    (root / "test" / "nshards.txt").write_text("three\n")
    with pytest.raises(DataError, match=r"nshards\.txt: expected the number of shards, got 'three'"):
        read_wds(root)


def test_bad_classnames_and_templates(copy):
    root = copy("cls")
    (root / "classnames.txt").write_text("cat\ndog\n")
    with pytest.raises(DataError, match=r"label 2 outside 0\.\.1 .*classnames\.txt"):
        read_wds(root)
    (root / "classnames.txt").write_text("cat\n\ndog\ncow\n")
    with pytest.raises(DataError, match=r"classnames\.txt: line 2 is blank"):
        read_wds(root)
    (root / "classnames.txt").write_text("cat\ndog\ncow\n\n")
    (root / "zeroshot_classification_templates.txt").write_text("a photo of a {c}.\na photo.\n")
    with pytest.raises(DataError, match=r"zeroshot_classification_templates\.txt: line 2: .*no \{c\}"):
        read_wds(root)


def test_multilabel_wrong_width(copy):
    root = copy("multi")
    (root / "classnames.txt").write_text("cat\ndog\n")
    with pytest.raises(DataError, match=r"sample s0000000: 'npy' label has shape \(3,\), expected \(2,\)"):
        read_wds(root)


def _rewrite(shard, samples):
    import webdataset as wds

    with wds.TarWriter(str(shard)) as w:
        for s in samples:
            w.write(s)


def test_sample_without_image_or_label(copy):
    root = copy("cls")
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000004", "cls": 0}])
    with pytest.raises(DataError, match=r"2\.tar: sample s0000004 has no image .*cls"):
        read_wds(root)
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000004", "png": png((0, 0, 0))}])
    with pytest.raises(DataError, match=r"sample s0000004 has no 'cls' field"):
        read_wds(root)
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000000", "png": png((0, 0, 0)), "cls": 1}])
    with pytest.raises(DataError, match=r"sample key s0000000 appears twice"):
        read_wds(root)
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000004", "png": png((0, 0, 0)), "cls": "x"}])
    with pytest.raises(DataError, match=r"sample s0000004: 'cls' must be an integer"):
        read_wds(root)


def test_empty_caption(copy):
    root = copy("ret")
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000004", "png": png((0, 0, 0)), "txt": "a\n\nb"}])
    with pytest.raises(DataError, match=r"sample s0000004: 'txt' has an empty caption line"):
        read_wds(root)


def test_corrupt_image_fails_on_load(copy):
    root = copy("cls")
    _rewrite(root / "test" / "2.tar", [{"__key__": "s0000004", "png": b"not a png", "cls": 0}])
    data = read_wds(root)
    with pytest.raises(DataError, match=r"cannot decode image s0000004\.png in .*2\.tar"):
        data.images.load(4)


def test_unreadable_and_truncated_shards(copy):
    root = copy("cls")
    shard = root / "test" / "1.tar"
    whole = shard.read_bytes()
    for cut in (1600, 700):  # inside the png data; before the second header
        shard.write_bytes(whole[:cut])
        with pytest.raises(DataError, match=r"cannot read shard .*1\.tar as a tar file .*truncated"):
            read_wds(root)
    with tarfile.open(root / "test" / "x.tar.gz", "w:gz") as tf:
        tf.add(root / "classnames.txt", arcname="s0000009.cls")
    (root / "test" / "x.tar.gz").rename(shard)
    with pytest.raises(DataError, match=r"cannot read shard .*1\.tar: it is compressed"):
        read_wds(root)
