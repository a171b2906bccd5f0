"""Class-folder reader: ImageFolder tree + classnames.txt + templates.txt / cupl_prompts.json."""
from __future__ import annotations

import numpy as np
import pytest

from lipeval.datasets.folder import read_image_folder
from lipeval.errors import DataError, DataMissing


@pytest.fixture
def folder(tmp_path, fx):
    root = tmp_path / "shapes"
    t = root / "test"
    fx.write_image(t / "b_dog" / "2.JPG", (0, 0, 255))
    fx.write_image(t / "b_dog" / "1.png", (0, 0, 200))
    fx.write_image(t / "a_cat" / "z.webp", (255, 0, 0))
    fx.write_image(t / "a_cat" / "sub" / "a.bmp", (200, 0, 0))
    fx.write_image(t / "a_cat" / "a.jpeg", (100, 0, 0))
    (t / "a_cat" / "notes.txt").write_text("not an image")
    fx.write_image(t / "a_cat" / ".hidden.png")
    fx.write_image(t / "c_cow" / "x.PNG", (0, 255, 0))
    fx.write_image(root / "train" / "a_cat" / "t.png")
    fx.write_image(root / "train" / "b_dog" / "t.png")
    fx.write_image(root / "train" / "c_cow" / "t.png")
    (root / "classnames.txt").write_text("cat\n\ndog\ncow\n\n")
    (root / "templates.txt").write_text("a photo of a {c}.\n\n  a drawing of a {c}.  \n")
    return root


def test_reads_sorted_tree(folder):
    data = read_image_folder(folder)
    assert data.classnames == ["cat", "dog", "cow"]
    assert data.templates == ["a photo of a {c}.", "a drawing of a {c}."]
    assert data.images.ids == [
        "test/a_cat/a.jpeg",
        "test/a_cat/sub/a.bmp",
        "test/a_cat/z.webp",
        "test/b_dog/1.png",
        "test/b_dog/2.JPG",
        "test/c_cow/x.PNG",
    ]
    np.testing.assert_array_equal(data.labels, [0, 0, 0, 1, 1, 2])
    assert not data.multilabel
    assert data.extra["class_folders"] == ["a_cat", "b_dog", "c_cow"]
    assert data.images.load(4).getpixel((0, 0))[2] > 200  # the blue JPEG


def test_train_split_and_limit(folder):
    train = read_image_folder(folder, split="train")
    assert train.images.ids == ["train/a_cat/t.png", "train/b_dog/t.png", "train/c_cow/t.png"]
    sub = read_image_folder(folder).limit(4)
    assert len(sub.images) == 4 and list(sub.labels) == [0, 0, 0, 1] and sub.classnames == ["cat", "dog", "cow"]


def test_class_count_mismatch(folder):
    (folder / "classnames.txt").write_text("cat\ndog\n")
    with pytest.raises(DataError, match=r"classnames\.txt lists 2 class names but .*test has 3 class folders"):
        read_image_folder(folder)


@pytest.mark.parametrize(
    "text, expect",
    [
        ("a photo of a {c}.\na photo of a thing.\n", r"templates\.txt: line 2: template 'a photo of a thing\.' has no \{c\}"),
        ("a {c} in {}.\n", r"templates\.txt: line 1: .*cannot be filled"),
        ("\n\n", r"templates\.txt: no prompt templates"),
    ],
)
def test_bad_templates(folder, text, expect):
    (folder / "templates.txt").write_text(text)
    with pytest.raises(DataError, match=expect):
        read_image_folder(folder)


def test_cupl_prompts_when_no_templates(folder, fx):
    prompts = {"cat": ["a cat."], "dog": ["a dog.", "a puppy."], "cow": ["a cow."], "extra": ["unused"]}
    fx.write_json(folder / "cupl_prompts.json", prompts)
    assert isinstance(read_image_folder(folder).templates, list)  # templates.txt wins
    (folder / "templates.txt").unlink()
    data = read_image_folder(folder)
    assert data.templates == {"cat": ["a cat."], "dog": ["a dog.", "a puppy."], "cow": ["a cow."]}
    del prompts["cow"]
    fx.write_json(folder / "cupl_prompts.json", prompts)
    with pytest.raises(DataError, match=r"cupl_prompts\.json: no prompts for 1 class name.*cow"):
        read_image_folder(folder)
    (folder / "cupl_prompts.json").write_text('{"cat": ["a cat."],}')
    with pytest.raises(DataError, match=r"cupl_prompts\.json: invalid JSON at line 1"):
        read_image_folder(folder)


def test_missing_files_are_data_missing(folder, tmp_path):
    (folder / "templates.txt").unlink()
    with pytest.raises(DataMissing, match=r"templates\.txt or .*cupl_prompts\.json"):
        read_image_folder(folder)
    (folder / "classnames.txt").unlink()
    with pytest.raises(DataMissing, match=r"classnames\.txt"):
        read_image_folder(folder)
    with pytest.raises(DataMissing, match=r"expected folder .*val"):
        read_image_folder(folder, split="val")


def test_empty_class_folder(folder):
    (folder / "test" / "d_empty").mkdir()
    (folder / "test" / "d_empty" / "readme.md").write_text("no images here")
    (folder / "classnames.txt").write_text("cat\ndog\ncow\nnothing\n")
    with pytest.raises(DataError, match=r"class folder .*d_empty has no images"):
        read_image_folder(folder)


def test_corrupt_image_fails_on_load(folder):
    (folder / "test" / "c_cow" / "x.PNG").write_bytes(b"garbage")
    data = read_image_folder(folder)
    with pytest.raises(DataError, match=r"cannot decode image file .*c_cow/x\.PNG"):
        data.images.load(5)
