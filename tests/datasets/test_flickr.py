"""Flickr30k Karpathy reader on a pandas-written CSV and the BLIP JSON."""
from __future__ import annotations

import pandas as pd
import pytest

from lipeval.datasets.flickr import read_flickr30k_karpathy
from lipeval.errors import ConfigError, DataError, DataMissing

COMMA = "A man, wearing a hat, walks."
QUOTE = 'He said "hi", then left.'
ROWS = [
    ("1007129816.jpg", "The man with pierced ears is wearing glasses and an orange hat."),
    ("1007129816.jpg", COMMA),
    ("2000000000.jpg", "A dog runs."),
    ("1007129816.jpg", QUOTE),  # interleaved: grouped back to its image
    ("2000000000.jpg", "A dog, brown, runs."),
    ("3000000000.jpg", "Two birds."),
]


@pytest.fixture
def flickr(tmp_path, fx):
    root = tmp_path / "flickr30k"
    for n, img in enumerate(dict.fromkeys(r[0] for r in ROWS)):
        fx.write_image(root / "flickr30k-images" / img, (0, n * 80, 0))
    root.mkdir(exist_ok=True)
    pd.DataFrame(ROWS, columns=["image", "caption"]).to_csv(root / "flickr30k_test_karpathy.txt", index=False)
    return root


def test_csv_is_real_csv(flickr):
    raw = (flickr / "flickr30k_test_karpathy.txt").read_text()
    assert f'"{COMMA}"' in raw and '"He said ""hi"", then left."' in raw  # pandas quoted them
    data = read_flickr30k_karpathy(flickr)
    assert data.images.ids == [
        "flickr30k-images/1007129816.jpg",
        "flickr30k-images/2000000000.jpg",
        "flickr30k-images/3000000000.jpg",
    ]
    assert data.texts == [ROWS[0][1], COMMA, QUOTE, "A dog runs.", "A dog, brown, runs.", "Two birds."]
    assert data.text_image == [0, 0, 0, 1, 1, 2]


def test_quirk_keeps_quotes_like_clip_benchmark(flickr):
    data = read_flickr30k_karpathy(flickr, quirk_keep_quotes=True)
    assert data.texts[1] == f'"{COMMA}"'
    assert data.texts[2] == '"He said ""hi"", then left."'
    assert data.texts[0] == ROWS[0][1]
    # Bit-exact against CLIP_benchmark's own parser on the same file.
    from clip_benchmark.datasets.flickr import Flickr

    ref = Flickr(root=str(flickr / "flickr30k-images"), ann_file=str(flickr / "flickr30k_test_karpathy.txt")).data
    assert [f"flickr30k-images/{img}" for img, _ in ref] == data.images.ids
    assert [c for _, caps in ref for c in caps] == data.texts


def test_blip_json_gives_identical_records(flickr, fx):
    by_image: dict[str, list[str]] = {}
    for img, cap in ROWS:
        by_image.setdefault(f"flickr30k-images/{img}", []).append(cap)
    fx.write_json(flickr / "flickr30k_test.json", [{"image": k, "caption": v} for k, v in by_image.items()])
    a = read_flickr30k_karpathy(flickr)
    assert a.source.endswith(".txt")  # the CSV is preferred when both exist
    b = read_flickr30k_karpathy(flickr, annotation="flickr30k_test.json")
    assert (a.images.ids, a.texts, a.text_image) == (b.images.ids, b.texts, b.text_image)
    (flickr / "flickr30k_test_karpathy.txt").unlink()
    assert read_flickr30k_karpathy(flickr).source.endswith("flickr30k_test.json")
    with pytest.raises(ConfigError, match="quirk_keep_quotes.*JSON"):
        read_flickr30k_karpathy(flickr, quirk_keep_quotes=True)


def test_limit(flickr):
    sub = read_flickr30k_karpathy(flickr).limit(1)
    assert len(sub.images) == 1 and sub.texts == [ROWS[0][1], COMMA, QUOTE]


def test_missing_annotation(tmp_path):
    with pytest.raises(DataMissing) as e:
        read_flickr30k_karpathy(tmp_path)
    assert "flickr30k_test_karpathy.txt" in str(e.value) and "flickr30k_test.json" in str(e.value)


@pytest.mark.parametrize(
    "text, expect",
    [
        ("img,text\na.jpg,x\n", r"line 1 must be the header 'image,caption'"),
        ("image,caption\n1007129816.jpg,a, b, c\n", r"line 2 has 4 field\(s\), expected 2"),
        ("image,caption\n1007129816.jpg,\n", r"line 2 \(1007129816\.jpg\) has an empty caption"),
        ('image,caption\n1007129816.jpg,"open quote\n', r"malformed CSV"),
        ("", r"empty file"),
    ],
)
def test_bad_csv(flickr, text, expect):
    (flickr / "flickr30k_test_karpathy.txt").write_text(text)
    with pytest.raises(DataError, match=expect) as e:
        read_flickr30k_karpathy(flickr)
    assert "flickr30k_test_karpathy.txt" in str(e.value)


def test_quirk_parser_errors_name_the_line(flickr):
    (flickr / "flickr30k_test_karpathy.txt").write_text("image,caption\n1007129816.png,a cat\n")
    with pytest.raises(DataError, match=r"flickr30k_test_karpathy\.txt: line 2 does not split .*'\.jpg,'"):
        read_flickr30k_karpathy(flickr, quirk_keep_quotes=True)


def test_malformed_json(tmp_path):
    (tmp_path / "flickr30k_test.json").write_text('[{"image": "a.jpg", "caption": ["x"]},]')
    with pytest.raises(DataError, match=r"flickr30k_test\.json: invalid JSON at line 1, column 39: Expecting value"):
        read_flickr30k_karpathy(tmp_path)


def test_missing_image(flickr):
    (flickr / "flickr30k-images" / "3000000000.jpg").unlink()
    with pytest.raises(DataError, match=r"1 of 3 images listed in .*flickr30k_test_karpathy\.txt are missing.*3000000000"):
        read_flickr30k_karpathy(flickr)


def test_corrupt_image_fails_on_load(flickr):
    (flickr / "flickr30k-images" / "2000000000.jpg").write_bytes(b"\xff\xd8 broken")
    data = read_flickr30k_karpathy(flickr)
    with pytest.raises(DataError, match=r"cannot decode image file .*2000000000\.jpg"):
        data.images.load(1)
