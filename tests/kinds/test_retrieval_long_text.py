"""The retrieval kind's text handling: preprocessing, caption prefix, truncation statistics and the
non-reference subcaption_mean mode, on a transparent word-bag model (its context length truncates)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lipeval.datasets.records import RetrievalData
from lipeval.errors import ConfigError
from lipeval.kinds.retrieval import RetrievalOptions
from lipeval.kinds.retrieval.evaluate import evaluate
from lipeval.metrics.retrieval import retrieval_metrics

DIM = 1024  # word vectors of this size are nearly orthogonal


def _protocol(**kw) -> RetrievalOptions:
    return RetrievalOptions.parse(kw, "test")


def run(data, embedder, options):
    """(metrics, info as the record holds it)."""
    r = evaluate(data, embedder, options)
    return r.metrics, {"n_images": r.n_images, "n_texts": r.n_texts, **r.info}


# Five scenes: the shared opening fills a 6-token context (4 words); only the end tells them apart.
UNIQUE = ["alpha", "bravo", "charlie", "delta", "echo"]
CAPTIONS = [f"Some shape here now.\nThen the {u} thing." for u in UNIQUE]


@pytest.fixture
def world(fake):
    """(data, images, make): five scenes whose image vectors are the word vectors of their unique words;
    `make(context_length, cache_dir=None)` -> (model, embedder)."""
    model = fake.Model(dim=DIM)
    images = F.normalize(torch.stack([model.word(u) for u in UNIQUE]), dim=-1)
    data = RetrievalData(fake.Images(UNIQUE), list(CAPTIONS), list(range(5)), source="fixture")

    def make(context_length, cache_dir=None):
        m = fake.Model(dim=DIM, context_length=context_length, images=dict(zip(UNIQUE, images)))
        return m, fake.embedder(m, cache_dir=cache_dir, batch_size=3)

    return data, images, make


def test_reference_mode_truncates_and_reports_it(world):
    data, _, make = world
    adapter, emb = make(6)
    metrics, info = run(data, emb, _protocol(text_preprocessing="lotlip_split"))
    assert adapter.seen == [f"Some shape here now. Then the {u} thing" for u in UNIQUE]  # split + re-join
    # all five captions keep the same first 4 words: identical text embeddings. Every image sees its five
    # texts tied (a miss under the pessimistic policy); the identical texts rank the images one way, right for one
    assert metrics["image_to_text_R@1"] == 0.0 and metrics["text_to_image_R@1"] == pytest.approx(0.2)
    tok = info["text_tokens"]
    assert tok == {"n_texts": 5, "n_truncated": 5, "mean_tokens": 10.0, "max_tokens": 10, "context_length": 6,
                   "truncation": "keep_first_eot_last", "unit": "caption"}
    assert "non_reference" not in info


def test_longer_context_sees_the_whole_caption(world):
    data, _, make = world
    metrics, info = run(data, make(12)[1], _protocol(text_preprocessing="lotlip_split"))
    assert info["text_tokens"]["n_truncated"] == 0 and info["text_tokens"]["context_length"] == 12
    assert metrics["mean_R@1"] == 1.0


def test_subcaption_mean_is_the_renormalised_mean_of_sentence_embeddings(world):
    data, images, make = world
    adapter, emb = make(6)
    metrics, info = run(data, emb, _protocol(text_preprocessing="lotlip_split", long_text_mode="subcaption_mean",
                                               caption_prefix="x "))
    sentences = [["x Some shape here now", f"x Then the {u} thing"] for u in UNIQUE]
    assert adapter.seen == [s for pair in sentences for s in pair]  # prefix on every encoded sentence
    expected = torch.stack([
        F.normalize(adapter.encode_texts(pair).mean(0), dim=0) for pair in sentences
    ])
    ref = retrieval_metrics(expected @ images.T, torch.arange(5))
    assert metrics == pytest.approx(ref)
    assert metrics["mean_R@1"] == 1.0  # the sentence-level encoding keeps what truncation threw away
    assert info["text_tokens"]["unit"] == "sentence" and info["text_tokens"]["n_texts"] == 10
    assert info["text_tokens"]["n_truncated"] == 10  # every sentence has 5 words (+ 2 special tokens > 6)
    assert info["text_tokens_whole_caption"]["n_truncated"] == 5
    assert info["sentences_per_text"] == {"mean": 2.0, "max": 2}
    assert "non-reference" in info["non_reference"]


def test_short_caption_defaults_are_unchanged(fake):
    """COCO/Flickr: captions encoded as read, cache label as before this option existed."""
    adapter = fake.Model(dim=DIM)
    data = RetrievalData(fake.Images(["a", "b"]), ["A dog. Runs.", "A cat", "A b.c"], [0, 1, 1], source="coco")
    calls = []
    emb = fake.embedder(adapter)
    real_texts = emb.texts
    emb.texts = lambda texts, preprocessing="none": calls.append(preprocessing) or real_texts(texts, preprocessing)
    _, info = run(data, emb, _protocol())
    assert adapter.seen == ["A dog. Runs.", "A cat", "A b.c"]
    assert calls == ["prefix=''"]
    assert info["n_texts"] == 3 and info["text_tokens"]["n_truncated"] == 0


def test_modes_do_not_share_cache_entries(world, tmp_path):
    data, _, make = world
    adapter, emb = make(6, cache_dir=tmp_path)
    run(data, emb, _protocol(text_preprocessing="lotlip_split"))
    n = adapter.text_batches
    run(data, emb, _protocol(text_preprocessing="lotlip_split"))
    assert adapter.text_batches == n  # second reference run: from the cache
    run(data, emb, _protocol(text_preprocessing="lotlip_split", long_text_mode="subcaption_mean"))
    assert adapter.text_batches > n
    m = adapter.text_batches
    run(data, emb, _protocol(text_preprocessing="none"))
    assert adapter.text_batches > m  # other preprocessing, other strings: recomputed


@pytest.mark.parametrize("key, value, message", [
    ("long_text_mode", "mean", "option long_text_mode=mean: expected one of reference, subcaption_mean"),
    ("text_preprocessing", "split", "option text_preprocessing=split: expected one of none, lotlip_split, "
                                    "newline_to_space"),
])
def test_bad_option_values_are_config_errors(key, value, message):
    with pytest.raises(ConfigError, match=message):
        _protocol(**{key: value})
