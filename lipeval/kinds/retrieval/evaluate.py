"""Image-text retrieval: every caption belongs to one image (COCO/Flickr, and the long-text sets).
Definitions and references: docs/protocols.md §A (retrieval) and §B (long text).

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

from lipeval.datasets.records import RetrievalData
from lipeval.kinds.contract import Embedder, KindResult
from lipeval.kinds.pooling import mean_of_normalised
from lipeval.kinds.retrieval import RETRIEVAL_KS, RetrievalOptions
from lipeval.metrics.retrieval import retrieval_chance, retrieval_metrics
from lipeval.text_preprocessing import preprocess, split_sentences

NON_REFERENCE_NOTE = (
    "long_text_mode=subcaption_mean is a non-reference variant: each sentence is encoded and the "
    "normalised sentence embeddings are averaged; do not compare with reference-mode numbers"
)


def _cache_label(rule: str, prefix: str, mode: str) -> str:
    """What was done to the strings, for the embedding-cache key (the strings are hashed as well)."""
    if rule == "none" and mode == "reference":
        return f"prefix={prefix!r}"
    return f"text_preprocessing={rule};prefix={prefix!r};long_text_mode={mode}"


def _token_stats(embedder: Embedder, texts: list[str], unit: str) -> dict:
    return {**embedder.text_stats(texts), "unit": unit}


def _subcaption_embeddings(embedder: Embedder, texts: list[str], prefix: str, label: str):
    """Encode every sentence of every caption; returns (caption embeddings, sentences, owner)."""
    sentences, owner = [], []
    for i, t in enumerate(texts):
        parts = split_sentences(t) or [t]  # a caption with no sentence break is encoded whole
        sentences.extend(prefix + p for p in parts)
        owner.extend([i] * len(parts))
    emb = embedder.texts(sentences, preprocessing=label)
    return mean_of_normalised(emb, owner, len(texts)), sentences, owner


def evaluate(data: RetrievalData, embedder: Embedder, options: RetrievalOptions) -> KindResult:
    rule, prefix, mode = options.text_preprocessing, options.caption_prefix, options.long_text_mode
    texts = preprocess(list(data.texts), rule)
    whole = [prefix + t for t in texts]
    label = _cache_label(rule, prefix, mode)

    image_emb = embedder.images(data.images)
    info: dict = {}
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
    metrics = retrieval_metrics(text_emb @ image_emb.T, text_image, ks=RETRIEVAL_KS, tie_policy=options.tie_policy)
    return KindResult(metrics=metrics, chance=retrieval_chance(len(data.images), text_image, ks=RETRIEVAL_KS),
                      n_images=len(data.images), n_texts=len(texts), info=info)
