"""Image-to-image retrieval (GPR1200): every image queries all images; mAP and per-domain mAP.

Options (`ImageRetrievalOptions`): `tie_policy` (see `lipeval.metrics.gpr`) and `leave_one_out` (false = the
reference protocol, the query stays in the database as one of its positives; true = the query is removed,
9 positives per GPR1200 category). Definitions: docs/protocols.md §F.
"""
from __future__ import annotations

import numpy as np

from lipeval.datasets.image_retrieval_records import ImageRetrievalData
from lipeval.kinds.contract import Embedder, KindResult
from lipeval.kinds.image_retrieval import ImageRetrievalOptions
from lipeval.metrics.gpr import average_precisions, gpr_chance, gpr_metrics


def evaluate(data: ImageRetrievalData, embedder: Embedder, options: ImageRetrievalOptions) -> KindResult:
    emb = embedder.images(data.images)
    aps = average_precisions(emb, data.categories, tie_policy=options.tie_policy,
                             leave_one_out=options.leave_one_out)
    metrics = gpr_metrics(aps.numpy(), data.categories)
    _, counts = np.unique(np.asarray(data.categories), return_counts=True)
    info = {
        "n_categories": int(len(counts)),
        "images_per_category": [int(counts.min()), int(counts.max())],
        "n_queries_without_positive": int(np.isnan(aps.numpy()).sum()),
    }
    return KindResult(metrics=metrics, chance=gpr_chance(data.categories, options.leave_one_out),
                      n_images=len(data.images), n_texts=0, info=info)
