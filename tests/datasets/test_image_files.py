"""One list of image extensions for every reader that finds images by name or by webdataset field."""
from __future__ import annotations

from pathlib import Path

import pytest

from lipeval.datasets import wds
from lipeval.datasets.image_files import IMAGE_EXTENSIONS, image_fields, is_image_file, shown_extensions


def test_is_image_file_looks_at_the_extension_in_any_case():
    assert all(is_image_file(Path(f"a/b.{e}")) for e in IMAGE_EXTENSIONS)
    assert is_image_file(Path("x.JPG")) and is_image_file(Path("x.WebP"))
    assert not any(is_image_file(Path(n)) for n in ("x.tif", "x.ppm", "x.jpg.txt", "x", ".jpg"))
    assert shown_extensions() == ".bmp, .jpeg, .jpg, .png, .webp"


def test_image_fields_put_a_formats_preference_first():
    assert image_fields() == IMAGE_EXTENSIONS
    assert image_fields(("webp", "png", "jpg", "jpeg")) == ("webp", "png", "jpg", "jpeg", "bmp")
    with pytest.raises(ValueError, match="tif"):
        image_fields(("tif",))


def test_both_webdataset_readers_accept_the_same_images():
    from lipeval.train import wds as train_wds

    assert wds.IMAGE_FIELDS[:4] == ("webp", "png", "jpg", "jpeg")  # CLIP_benchmark's order
    assert train_wds.IMAGE_FIELDS[:4] == ("jpg", "jpeg", "png", "webp")
    assert set(wds.IMAGE_FIELDS) == set(train_wds.IMAGE_FIELDS) == set(IMAGE_EXTENSIONS)
