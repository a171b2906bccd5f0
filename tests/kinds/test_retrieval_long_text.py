"""The retrieval kind's text handling: preprocessing, caption prefix, truncation statistics and the
non-reference subcaption_mean mode, on a transparent word-bag model (its context length truncates)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lipeval.cache import EmbeddingCache
from lipeval.datasets.records import ImageSet, RetrievalData
from lipeval.embed import Embedder
from lipeval.errors import ConfigError
from lipeval.kinds import KINDS
from lipeval.kinds.retrieval import run
from lipeval.metrics.retrieval import retrieval_metrics

DIM = 1024


class WordAdapter:
    """Text embedding = sum of a fixed random vector per word, over the first `context_length - 2` words."""

    fingerprint, precision, truncation = "word-bag", "fp32", "keep_first_eot_last"

    def __init__(self, context_length: int):
        self.context_length = context_length
        self.seen: list[str] = []
        self.text_batches = 0

    @staticmethod
    def word(w: str) -> torch.Tensor:
        g = torch.Generator().manual_seed(sum(ord(c) * 131**i for i, c in enumerate(w)) % 2**31)
        return torch.randn(DIM, generator=g)

    def words(self, text: str) -> list[str]:
        return text.lower().replace(".", " ").split()

    def encode_texts(self, texts: list[str]) -> torch.Tensor:
        self.text_batches += 1
        self.seen.extend(texts)
        rows = [sum((self.word(w) for w in self.words(t)[: self.context_length - 2]), torch.zeros(DIM)) for t in texts]
        return F.normalize(torch.stack(rows), dim=-1)

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(self.words(t)) + 2 for t in texts]


class FakeImages(ImageSet):
    def fingerprint(self) -> str:
        return "fake-images"


class WordEmbedder(Embedder):
    """The real Embedder (cache, text_stats), with image embeddings given directly."""

    def __init__(self, adapter, image_emb: torch.Tensor, cache_dir=None):
        super().__init__(adapter, EmbeddingCache(cache_dir), batch_size=3)
        self.image_emb = image_emb

    def images(self, images):
        return self.image_emb


def _protocol(**kw) -> dict:
    return {**KINDS["retrieval"]["protocol"], **kw}


# Five scenes: the shared opening fills a 6-token context (4 words); only the end tells them apart.
UNIQUE = ["alpha", "bravo", "charlie", "delta", "echo"]
CAPTIONS = [f"Some shape here now.\nThen the {u} thing." for u in UNIQUE]


def _data() -> RetrievalData:
    return RetrievalData(FakeImages(UNIQUE), list(CAPTIONS), list(range(5)), source="fixture")


def _images() -> torch.Tensor:
    return F.normalize(torch.stack([WordAdapter.word(u) for u in UNIQUE]), dim=-1)


def test_reference_mode_truncates_and_reports_it():
    adapter = WordAdapter(context_length=6)
    emb = WordEmbedder(adapter, _images())
    metrics, info = run(_data(), emb, _protocol(text_preprocessing="lotlip_split"))
    assert adapter.seen == [f"Some shape here now. Then the {u} thing" for u in UNIQUE]  # split + re-join
    # all five captions keep the same first 4 words: identical text embeddings. Every image sees its five
    # texts tied (a miss under the pessimistic policy); the identical texts rank the images one way, right for one
    assert metrics["image_to_text_R@1"] == 0.0 and metrics["text_to_image_R@1"] == pytest.approx(0.2)
    tok = info["text_tokens"]
    assert tok == {"n_texts": 5, "n_truncated": 5, "mean_tokens": 10.0, "max_tokens": 10, "context_length": 6,
                   "truncation": "keep_first_eot_last", "unit": "caption"}
    assert "non_reference" not in info


def test_longer_context_sees_the_whole_caption():
    adapter = WordAdapter(context_length=12)
    metrics, info = run(_data(), WordEmbedder(adapter, _images()), _protocol(text_preprocessing="lotlip_split"))
    assert info["text_tokens"]["n_truncated"] == 0 and info["text_tokens"]["context_length"] == 12
    assert metrics["mean_R@1"] == 1.0


def test_subcaption_mean_is_the_renormalised_mean_of_sentence_embeddings():
    adapter = WordAdapter(context_length=6)
    emb = WordEmbedder(adapter, _images())
    metrics, info = run(_data(), emb, _protocol(text_preprocessing="lotlip_split", long_text_mode="subcaption_mean",
                                               caption_prefix="x "))
    sentences = [["x Some shape here now", f"x Then the {u} thing"] for u in UNIQUE]
    assert adapter.seen == [s for pair in sentences for s in pair]  # prefix on every encoded sentence
    expected = torch.stack([
        F.normalize(adapter.encode_texts(pair).mean(0), dim=0) for pair in sentences
    ])
    ref = retrieval_metrics(expected @ _images().T, torch.arange(5))
    assert metrics == pytest.approx(ref)
    assert metrics["mean_R@1"] == 1.0  # the sentence-level encoding keeps what truncation threw away
    assert info["text_tokens"]["unit"] == "sentence" and info["text_tokens"]["n_texts"] == 10
    assert info["text_tokens"]["n_truncated"] == 10  # every sentence has 5 words (+ 2 special tokens > 6)
    assert info["text_tokens_whole_caption"]["n_truncated"] == 5
    assert info["sentences_per_text"] == {"mean": 2.0, "max": 2}
    assert "non-reference" in info["non_reference"]


def test_short_caption_defaults_are_unchanged():
    """COCO/Flickr: captions encoded as read, cache label as before this option existed."""
    adapter = WordAdapter(context_length=77)
    data = RetrievalData(FakeImages(["a", "b"]), ["A dog. Runs.", "A cat", "A b.c"], [0, 1, 1], source="coco")
    calls = []
    emb = WordEmbedder(adapter, F.normalize(torch.randn(2, DIM, generator=torch.Generator().manual_seed(0)), dim=-1))
    real_texts = emb.texts
    emb.texts = lambda texts, preprocessing="none": calls.append(preprocessing) or real_texts(texts, preprocessing)
    _, info = run(data, emb, _protocol())
    assert adapter.seen == ["A dog. Runs.", "A cat", "A b.c"]
    assert calls == ["prefix=''"]
    assert info["n_texts"] == 3 and info["text_tokens"]["n_truncated"] == 0


def test_modes_do_not_share_cache_entries(tmp_path):
    adapter = WordAdapter(context_length=6)
    emb = WordEmbedder(adapter, _images(), cache_dir=tmp_path)
    run(_data(), emb, _protocol(text_preprocessing="lotlip_split"))
    n = adapter.text_batches
    run(_data(), emb, _protocol(text_preprocessing="lotlip_split"))
    assert adapter.text_batches == n  # second reference run: from the cache
    run(_data(), emb, _protocol(text_preprocessing="lotlip_split", long_text_mode="subcaption_mean"))
    assert adapter.text_batches > n
    m = adapter.text_batches
    run(_data(), emb, _protocol(text_preprocessing="none"))
    assert adapter.text_batches > m  # other preprocessing, other strings: recomputed


@pytest.mark.parametrize("key, value, message", [
    ("long_text_mode", "mean", "long_text_mode 'mean': expected one of reference, subcaption_mean"),
    ("text_preprocessing", "split", "text_preprocessing 'split': unknown rule"),
])
def test_bad_option_values_are_config_errors(key, value, message):
    with pytest.raises(ConfigError, match=message):
        run(_data(), WordEmbedder(WordAdapter(6), _images()), _protocol(**{key: value}))
