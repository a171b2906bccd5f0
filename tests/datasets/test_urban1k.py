"""Urban-1k reader on a fixture in the release layout (image/<name>.jpg + caption/<name>.txt)."""
from __future__ import annotations

import pytest

from lipeval.datasets.urban1k import read_urban1k
from lipeval.errors import DataError, DataMissing

CAPTIONS = {"10": "A busy street. Cars wait at the light.", "2": "A quiet square with a fountain.",
            "1": "A bridge over a river.\nsecond line is not part of the caption"}


@pytest.fixture
def urban(tmp_path, fx):
    root = tmp_path / "urban1k"
    (root / "caption").mkdir(parents=True)
    for name, text in CAPTIONS.items():
        (root / "caption" / f"{name}.txt").write_text(text + "\n")
        fx.write_image(root / "image" / f"{name}.jpg")
    (root / "caption" / ".DS_Store").write_text("junk")
    return root


def test_paired_by_name_in_sorted_order_first_line_only(urban):
    data = read_urban1k(urban)
    assert data.images.ids == ["image/1.jpg", "image/10.jpg", "image/2.jpg"]  # sorted names, stable everywhere
    assert data.texts == ["A bridge over a river.", CAPTIONS["10"], CAPTIONS["2"]]
    assert data.text_image == [0, 1, 2]
    with pytest.raises(DataError, match="3 captions; Urban-1k has 1000"):
        read_urban1k(urban, expected_images=1000)


def test_missing_folders_are_data_missing(tmp_path):
    (tmp_path / "urban1k" / "caption").mkdir(parents=True)
    with pytest.raises(DataMissing, match="image"):
        read_urban1k(tmp_path / "urban1k")


def test_unpaired_files_are_named(urban, fx):
    fx.write_image(urban / "image" / "99.jpg")
    with pytest.raises(DataError, match="image\\(s\\) have no caption: 99.txt"):
        read_urban1k(urban)
    (urban / "image" / "99.jpg").unlink()
    (urban / "image" / "2.jpg").unlink()
    with pytest.raises(DataError, match="caption\\(s\\) have no image: 2.jpg"):
        read_urban1k(urban)


def test_empty_caption_and_empty_folder(urban):
    (urban / "caption" / "2.txt").write_text("\n\nlater text")
    with pytest.raises(DataError, match="2.txt: the first line"):
        read_urban1k(urban)
    for p in (urban / "caption").iterdir():
        p.unlink()
    with pytest.raises(DataError, match="no caption files"):
        read_urban1k(urban)
