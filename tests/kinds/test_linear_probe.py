"""The linear-probe kind: splits, few-shot sampling, options, metrics per label type, and a run on fixed
features through a stand-in embedder."""
import json
import math

import numpy as np
import pytest
import torch

from lipeval.datasets.probe import ProbeData, RowsImages, take_rows
from lipeval.datasets.records import ClassificationData
from lipeval.errors import ConfigError, DataError
from lipeval.kinds.linear_probe import LinearProbeOptions
from lipeval.kinds.linear_probe import evaluate as lp

DEFAULTS: dict = {}


def options(protocol: dict) -> LinearProbeOptions:
    return LinearProbeOptions.parse(protocol, "--protocol")


@pytest.fixture
def run(fake):
    """`run(data, table, protocol)` -> (metrics, info with chance, spy): the kind on the fake model whose image
    features are `table[id]`; `spy.calls` lists (image set fingerprint, feature kind) of each embedding pass."""
    def go(data, table, protocol):
        emb = fake.embedder(images=table)
        spy = _Spy(emb)
        r = lp.evaluate(data, spy, options(protocol))
        return r.metrics, {"n_images": r.n_images, "n_texts": r.n_texts, **r.info, "chance": r.chance}, spy

    return go


class _Spy:
    """The embedder, recording which image sets were embedded with which feature kind."""

    def __init__(self, embedder):
        self.embedder, self.calls = embedder, []
        self.device = embedder.device

    def images(self, images, features="embed"):
        self.calls.append((images.fingerprint(), features))
        return self.embedder.images(images, features)


def _data(fake, n, d, c, seed, prefix, multilabel=False):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    means = np.random.default_rng(99).normal(size=(c, d)) * 2
    x = means[y] + rng.normal(size=(n, d))
    ids = [f"{prefix}{k}" for k in range(n)]
    labels = np.eye(c, dtype=np.int64)[y] | (rng.random((n, c)) < 0.1) if multilabel else y
    cd = ClassificationData(fake.Images(ids, prefix), labels, [f"c{k}" for k in range(c)], ["a {c}."], source=prefix)
    return cd, {i: torch.tensor(v, dtype=torch.float32) for i, v in zip(ids, x)}


def test_validation_carve_is_per_class_seeded_and_disjoint():
    labels = np.repeat(np.arange(4), [10, 5, 20, 3])
    tr, va = lp.carve_validation(labels, 0.2, seed=0)
    assert np.intersect1d(tr, va).size == 0 and len(tr) + len(va) == len(labels)
    assert [int((labels[va] == c).sum()) for c in range(4)] == [2, 1, 4, 0]  # floor(0.2 * count)
    tr2, va2 = lp.carve_validation(labels, 0.2, seed=0)
    assert np.array_equal(va, va2)
    assert not np.array_equal(va, lp.carve_validation(labels, 0.2, seed=1)[1])


def test_fewshot_sampling_is_deterministic_and_names_a_short_class():
    labels = np.repeat(np.arange(3), [6, 9, 4])
    a = lp.fewshot_rows(labels, ["x", "y", "z"], 4, seed=0)
    assert np.array_equal(a, lp.fewshot_rows(labels, ["x", "y", "z"], 4, seed=0))
    assert [int((labels[a] == c).sum()) for c in range(3)] == [4, 4, 4]
    assert any(not np.array_equal(a, lp.fewshot_rows(labels, ["x", "y", "z"], 4, seed=s)) for s in range(1, 5))
    with pytest.raises(DataError, match=r"class 2 \('z'\) has 4 training images, fewer than fewshot_k=5"):
        lp.fewshot_rows(labels, ["x", "y", "z"], 5, seed=0)


def test_options_parse_cli_strings_and_name_the_flag():
    o = options({"fewshot_k": "4", "lambda": "0.5", "val_fraction": "0.25"})
    assert o.fewshot_k == 4 and o.lambda_ == 0.5 and o.val_fraction == 0.25
    assert lp.resolved_select_on(o, False) == "acc1" and lp.resolved_select_on(o, True) == "mAP_11pt"
    assert o.record()["lambda"] == 0.5 and list(o.record())[:3] == ["features", "tie_policy", "select_on"]
    for key, bad, expected in [("features", "tokens", "one of pre_proj, embed"),
                               ("fewshot_k", "-1", r"an integer >= 0 \(0: all images\)"),
                               ("lambda", "0", "search or a positive number"),
                               ("val_fraction", "1", r"a fraction in \(0, 1\)"),
                               ("max_iter", "x", "an integer >= 1")]:
        with pytest.raises(ConfigError, match=f"--protocol: option {key}={bad}: expected {expected}"):
            options({key: bad})
    with pytest.raises(ConfigError, match="select_on='acc1'"):
        lp.resolved_select_on(options({"select_on": "acc1"}), True)
    with pytest.raises(ConfigError, match="has no option 'lamda'.*did you mean lambda"):
        options({"lamda": "1"})


def test_fewshot_on_multilabel_data_is_refused(run, fake):
    train, ft = _data(fake, 20, 3, 3, 0, "tr", multilabel=True)
    test, fs = _data(fake, 20, 3, 3, 1, "te", multilabel=True)
    with pytest.raises(ConfigError, match="few-shot"):
        run(ProbeData(train, test), {**ft, **fs}, {"fewshot_k": 2})


def test_probe_metrics_per_label_type():
    scores = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 3.0], [0.5, 0.0]])
    m = lp.probe_metrics(scores, [0, 1, 0, 0], False, "pessimistic")
    assert m["acc1"] == 0.75 and math.isnan(m["acc5"]) and math.isnan(m["mean_top1_top5"])
    # margins (class 1 - class 0): -2, 1, 2, -0.5; the positive (1) beats -2 and -0.5, loses to 2
    assert m["roc_auc"] == pytest.approx(2 / 3)
    m = lp.probe_metrics(torch.eye(6), np.arange(6), False, "pessimistic")
    assert m["acc1"] == m["acc5"] == m["mean_top1_top5"] == 1.0 and "roc_auc" not in m
    m = lp.probe_metrics(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), np.eye(2, dtype=int), True, "pessimistic")
    assert m == {"mAP": 1.0, "mAP_11pt": 1.0}


def test_run_on_fixed_features_fits_searches_and_scores(run, fake):
    train, ft = _data(fake, 240, 6, 3, 0, "tr")
    test, fs = _data(fake, 150, 6, 3, 1, "te")
    metrics, info, emb = run(ProbeData(train, test, source="fixture"), {**ft, **fs}, dict(DEFAULTS))
    assert metrics["acc1"] > 0.9 and set(metrics) == {"acc1", "acc5", "mean_per_class_recall", "mean_top1_top5"}
    assert info["n_train"] == 192 and info["n_val"] == 48 and info["n_fit"] == 240 and info["n_test"] == 150
    assert info["features"] == "pre_proj" and {f for _, f in emb.calls} == {"pre_proj"}
    assert 7 <= len(info["search"]) <= 15 and info["lambda"] in [lam for lam, _ in info["search"]]
    assert info["final_fit"]["converged"] and info["chance"]["acc1"] == pytest.approx(1 / 3)
    again, _, _ = run(ProbeData(train, test, source="fixture"), {**ft, **fs}, dict(DEFAULTS))
    assert json.dumps(again) == json.dumps(metrics)  # deterministic (NaN included)


def test_reader_notes_reach_the_record(run, fake):
    train, ft = _data(fake, 30, 3, 3, 10, "tr")
    test, fs = _data(fake, 30, 3, 3, 11, "te")
    train.extra.update(n_listed=40, n_missing=10, class_folders=["a", "b", "c"])
    _, info, _ = run(ProbeData(train, test), {**ft, **fs}, {**DEFAULTS, "lambda": 1.0})
    assert info["data_notes"] == {"train": {"n_listed": 40, "n_missing": 10}}


def test_run_with_own_val_split_fixed_lambda_and_fewshot(run, fake):
    train, ft = _data(fake, 60, 4, 3, 2, "tr")
    val, fv = _data(fake, 30, 4, 3, 3, "va")
    test, fs = _data(fake, 30, 4, 3, 4, "te")
    table = {**ft, **fv, **fs}
    _, info, _ = run(ProbeData(train, test, val), table, {**DEFAULTS, "lambda": "2.0"})
    assert info["search"] is None and info["lambda"] == 2.0 and info["n_val"] == 30 and info["n_fit"] == 90
    _, info, _ = run(ProbeData(train, test, val), table, {**DEFAULTS, "fewshot_k": 5})
    assert info["n_train"] == 15 and info["n_fit"] == 15  # few-shot: the final fit uses the k-shot images only


def test_multilabel_run_reports_map(run, fake):
    train, ft = _data(fake, 200, 5, 4, 5, "tr", multilabel=True)
    test, fs = _data(fake, 100, 5, 4, 6, "te", multilabel=True)
    metrics, info, _ = run(ProbeData(train, test), {**ft, **fs}, dict(DEFAULTS))
    assert set(metrics) == {"mAP", "mAP_11pt"} and metrics["mAP_11pt"] > 0.6
    assert info["select_on"] == "mAP_11pt" and info["final_fit"]["loss"] == "multilabel"


def test_carved_splits_are_sliced_from_one_embedding_of_the_whole_set(run, fake):
    whole, table = _data(fake, 90, 4, 3, 7, "all")
    tr, te = take_rows(whole, np.arange(0, 90, 2), "train"), take_rows(whole, np.arange(1, 90, 2), "test")
    assert isinstance(tr.images, RowsImages)
    _, _, emb = run(ProbeData(tr, te), table, dict(DEFAULTS))
    assert emb.calls == [(whole.images.fingerprint(), "pre_proj")]
    limited = ProbeData(tr, te).limit(10)  # a --limit run embeds only the rows it keeps
    _, _, emb = run(limited, table, {**DEFAULTS, "lambda": 1.0})
    assert len(emb.calls) == 2 and all(fp != whole.images.fingerprint() for fp, _ in emb.calls)


def test_too_few_images_for_validation_is_a_clear_error(run, fake):
    train, ft = _data(fake, 3, 2, 3, 8, "tr")
    test, fs = _data(fake, 3, 2, 3, 9, "te")
    with pytest.raises(DataError, match="no validation images"):
        run(ProbeData(train, test, source="tiny"), {**ft, **fs}, dict(DEFAULTS))
