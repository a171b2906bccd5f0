"""Prompt-ensembled zero-shot classification (single- and multi-label); docs/protocols.md §C."""
from __future__ import annotations

import torch

from lipeval.datasets.records import ClassificationData
from lipeval.kinds.contract import Embedder, KindResult
from lipeval.kinds.pooling import mean_of_normalised
from lipeval.kinds.zeroshot import ZeroshotOptions
from lipeval.metrics.classification import classification_chance, classification_metrics, multilabel_metrics


def build_prompts(classnames: list[str], templates) -> tuple[list[str], list[int]]:
    """All prompts, and the class index of each: templates filled with `{c}`, or CuPL per-class lists."""
    prompts, owner = [], []
    for c, name in enumerate(classnames):
        texts = templates[name] if isinstance(templates, dict) else [t.format(c=name) for t in templates]
        prompts.extend(texts)
        owner.extend([c] * len(texts))
    return prompts, owner


def class_weights(prompt_emb: torch.Tensor, owner: list[int], n_classes: int) -> torch.Tensor:
    """(C, D): per class, the renormalised mean of its L2-normalised prompt embeddings."""
    return mean_of_normalised(prompt_emb, owner, n_classes)


def evaluate(data: ClassificationData, embedder: Embedder, options: ZeroshotOptions) -> KindResult:
    prompts, owner = build_prompts(data.classnames, data.templates)
    weights = class_weights(embedder.texts(prompts, preprocessing="zeroshot_prompts"), owner, len(data.classnames))
    image_emb = embedder.images(data.images)
    logits = 100.0 * image_emb @ weights.T
    labels = torch.as_tensor(data.labels)
    if data.multilabel:
        metrics = multilabel_metrics(logits, labels, tie_policy=options.tie_policy)
        chance = {}
    else:
        metrics = classification_metrics(logits, labels, tie_policy=options.tie_policy)
        chance = classification_chance(labels, len(data.classnames))
    info = {
        "n_classes": len(data.classnames),
        "n_templates": len(prompts) // max(1, len(data.classnames)),
    }
    return KindResult(metrics=metrics, chance=chance, n_images=len(data.images), n_texts=len(prompts), info=info)
