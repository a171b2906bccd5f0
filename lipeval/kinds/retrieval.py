"""Image-text retrieval: every caption belongs to one image (COCO/Flickr, and the long-text sets).

How captions become text embeddings, in this order (every step is a protocol option, recorded
in the result):

1. ``text_preprocessing``: a rule of `lipeval.text_preprocessing` (``none`` by default;
   ``lotlip_split`` for LoTLIP's long-text sets, ``newline_to_space`` for Long-CLIP's set).
2. ``caption_prefix``: prepended to every string that is encoded (e.g. ALIP's "a photo of ").
3. ``long_text_mode``:
   * ``reference`` (default): one caption, one string, one embedding. The model adapter owns the
     context length and the truncation rule (a 77-token CLIP keeps the first 77 tokens, the last
     forced to end-of-text; a longer-context model keeps more).
   * ``subcaption_mean``: a **non-reference** variant for short-context models: the caption is
     split into sentences (LoTLIP's split), each sentence is encoded, and the caption's embedding
     is the renormalised mean of the L2-normalised sentence embeddings. No reference reports
     numbers this way; results carry ``info.non_reference`` and must not be compared with
     reference-mode numbers.

`info.text_tokens` says how much text the model saw: token counts (special tokens included)
of the encoded strings, how many exceed the context length (and were truncated), the context
length and the truncation rule.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lipeval.datasets.records import RetrievalData
from lipeval.errors import ConfigError
from lipeval.kinds import RETRIEVAL_KS
from lipeval.metrics.retrieval import retrieval_chance, retrieval_metrics
from lipeval.text_preprocessing import preprocess, split_sentences

LONG_TEXT_MODES = ("reference", "subcaption_mean")
NON_REFERENCE_NOTE = (
    "long_text_mode=subcaption_mean is a non-reference variant: each sentence is encoded and the "
    "normalised sentence embeddings are averaged; do not compare with reference-mode numbers"
)


def _cache_label(rule: str, prefix: str, mode: str) -> str:
    """What was done to the strings, for the embedding-cache key (the strings are hashed as well)."""
    if rule == "none" and mode == "reference":
        return f"prefix={prefix!r}"
    return f"text_preprocessing={rule};prefix={prefix!r};long_text_mode={mode}"


def _token_stats(embedder, texts: list[str], unit: str) -> dict:
    stats = embedder.text_stats(texts)
    stats["truncation"] = getattr(embedder.adapter, "truncation", None)
    stats["unit"] = unit
    return stats


def _mean_normalised(emb: torch.Tensor, owner: list[int], n: int) -> torch.Tensor:
    """(n, D): for each owner, the renormalised mean of its L2-normalised rows of `emb`."""
    emb = F.normalize(emb.float(), dim=-1)
    index = torch.as_tensor(owner, dtype=torch.long)
    sums = torch.zeros(n, emb.shape[1]).index_add_(0, index, emb)
    return F.normalize(sums, dim=-1)  # normalising the sum equals normalising the mean


def _subcaption_embeddings(embedder, texts: list[str], prefix: str, label: str):
    """Encode every sentence of every caption; returns (caption embeddings, sentences, owner)."""
    sentences, owner = [], []
    for i, t in enumerate(texts):
        parts = split_sentences(t) or [t]  # a caption with no sentence break is encoded whole
        sentences.extend(prefix + p for p in parts)
        owner.extend([i] * len(parts))
    emb = embedder.texts(sentences, preprocessing=label)
    return _mean_normalised(emb, owner, len(texts)), sentences, owner


def run(data: RetrievalData, embedder, protocol: dict) -> tuple[dict, dict]:
    rule = protocol.get("text_preprocessing", "none")
    prefix = protocol.get("caption_prefix", "") or ""
    mode = protocol.get("long_text_mode", "reference")
    if mode not in LONG_TEXT_MODES:
        raise ConfigError(f"long_text_mode {mode!r}: expected one of {', '.join(LONG_TEXT_MODES)}")
    texts = preprocess(list(data.texts), rule)
    whole = [prefix + t for t in texts]
    label = _cache_label(rule, prefix, mode)

    image_emb = embedder.images(data.images)
    info: dict = {"n_images": len(data.images), "n_texts": len(texts)}
    if mode == "reference":
        text_emb = embedder.texts(whole, preprocessing=label)
        info["text_tokens"] = _token_stats(embedder, whole, "caption")
    else:
        text_emb, sentences, owner = _subcaption_embeddings(embedder, texts, prefix, label)
        per_caption = torch.bincount(torch.as_tensor(owner, dtype=torch.long), minlength=len(texts))
        info["text_tokens"] = _token_stats(embedder, sentences, "sentence")
        info["text_tokens_whole_caption"] = _token_stats(embedder, whole, "caption")
        info["sentences_per_text"] = {"mean": float(per_caption.float().mean()) if len(texts) else 0.0,
                                      "max": int(per_caption.max()) if len(texts) else 0}
        info["non_reference"] = NON_REFERENCE_NOTE

    text_image = torch.as_tensor(data.text_image, dtype=torch.long)
    metrics = retrieval_metrics(text_emb @ image_emb.T, text_image, ks=RETRIEVAL_KS,
                                tie_policy=protocol["tie_policy"])
    info["chance"] = retrieval_chance(len(data.images), text_image, ks=RETRIEVAL_KS)
    return metrics, info
