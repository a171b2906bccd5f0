"""Prompt-ensembled zero-shot classification (single- and multi-label)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from lipeval.datasets.records import ClassificationData
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
    prompt_emb = F.normalize(prompt_emb.float(), dim=-1)
    index = torch.as_tensor(owner, dtype=torch.long)
    sums = torch.zeros(n_classes, prompt_emb.shape[1]).index_add_(0, index, prompt_emb)
    counts = torch.bincount(index, minlength=n_classes).clamp(min=1).unsqueeze(1)
    return F.normalize(sums / counts, dim=-1)


def run(data: ClassificationData, embedder, protocol: dict) -> tuple[dict, dict]:
    prompts, owner = build_prompts(data.classnames, data.templates)
    weights = class_weights(embedder.texts(prompts, preprocessing="zeroshot_prompts"), owner, len(data.classnames))
    image_emb = embedder.images(data.images)
    logits = 100.0 * image_emb @ weights.T
    labels = torch.as_tensor(data.labels)
    tie = protocol["tie_policy"]
    if data.multilabel:
        metrics = multilabel_metrics(logits, labels, tie_policy=tie)
        chance = {}
    else:
        metrics = classification_metrics(logits, labels, tie_policy=tie)
        chance = classification_chance(labels, len(data.classnames))
    info = {
        "n_images": len(data.images),
        "n_texts": len(prompts),
        "n_classes": len(data.classnames),
        "n_templates": len(prompts) // max(1, len(data.classnames)),
        "chance": chance,
    }
    return metrics, info
