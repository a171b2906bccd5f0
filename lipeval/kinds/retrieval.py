"""Image-text retrieval (COCO/Flickr style): every caption belongs to one image."""
from __future__ import annotations

import torch

from lipeval.datasets.records import RetrievalData
from lipeval.kinds import RETRIEVAL_KS
from lipeval.metrics.retrieval import retrieval_chance, retrieval_metrics


def run(data: RetrievalData, embedder, protocol: dict) -> tuple[dict, dict]:
    prefix = protocol.get("caption_prefix", "")
    texts = [prefix + t for t in data.texts] if prefix else list(data.texts)
    image_emb = embedder.images(data.images)
    text_emb = embedder.texts(texts, preprocessing=f"prefix={prefix!r}")
    text_image = torch.as_tensor(data.text_image, dtype=torch.long)
    metrics = retrieval_metrics(text_emb @ image_emb.T, text_image, ks=RETRIEVAL_KS,
                                tie_policy=protocol["tie_policy"])
    info = {
        "n_images": len(data.images),
        "n_texts": len(texts),
        "chance": retrieval_chance(len(data.images), text_image, ks=RETRIEVAL_KS),
    }
    return metrics, info
