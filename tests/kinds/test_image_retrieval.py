"""The image-retrieval kind on a GPR1200-format fixture with known features: every number by hand."""
from __future__ import annotations

import pytest
from PIL import Image

from dataclasses import replace

from lipeval.datasets.gpr1200 import read_gpr1200
from lipeval.errors import ConfigError
from lipeval.kinds.image_retrieval import ImageRetrievalOptions
from lipeval.kinds.image_retrieval.evaluate import evaluate

# file -> integer feature (exact dot products). Landmarks category 5: a, b; sketch category 450: c, d, e.
FEATURES = {"5_a.jpg": [2, 0], "5_b.jpg": [1, 1], "450_c.jpg": [1, 0], "450_d.jpg": [0, 2], "450_e.jpg": [1, 1]}
# Per query, pessimistic AP (ties put negatives first; see tests/metrics/test_gpr.py for the walk-through)
AP = [(1 + 2 / 4) / 2, (1 / 3 + 2 / 4) / 2, (1 / 3 + 2 / 4 + 3 / 5) / 3, (1 + 2 / 3 + 3 / 5) / 3,
      (1 / 3 + 2 / 4 + 3 / 5) / 3]


def run(data, embedder, **options):
    r = evaluate(data, embedder, ImageRetrievalOptions.parse(options, "test"))
    return r.metrics, {**r.info, "chance": r.chance}


@pytest.fixture
def gpr(tmp_path, fake):
    """(records read from a GPR1200-format folder with their images standing for FEATURES, an embedder)."""
    for name in FEATURES:
        path = tmp_path / "gpr1200" / "images" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(path)
    data = read_gpr1200(tmp_path / "gpr1200")
    data = replace(data, images=fake.Images(data.images.ids))
    return data, fake.embedder(images=FEATURES)


def test_map_and_per_domain_map_by_hand(gpr):
    gpr, emb = gpr
    m, info = run(gpr, emb)
    assert m["mAP"] == pytest.approx(sum(AP) / 5)
    assert m["mAP_landmarks"] == pytest.approx((AP[0] + AP[1]) / 2)
    assert m["mAP_sketch"] == pytest.approx((AP[2] + AP[3] + AP[4]) / 3)
    for d in ("inat", "instre", "sop", "faces"):
        assert m[f"mAP_{d}"] != m[f"mAP_{d}"]  # NaN: no query in that domain
    assert info["n_categories"] == 2 and info["images_per_category"] == [2, 3]
    assert set(info["chance"]) == set(m)


def test_leave_one_out_from_the_command_line(gpr):
    gpr, emb = gpr
    m, info = run(gpr, emb, leave_one_out="true")
    # query a: positive b tied with negatives c and e at 2 -> rank 3; query b: positive a tied with d, e -> 3
    assert m["mAP_landmarks"] == pytest.approx(1 / 3)
    assert info["n_queries_without_positive"] == 0
    with pytest.raises(ConfigError, match="option leave_one_out=maybe: expected one of false, true"):
        run(gpr, emb, leave_one_out="maybe")
