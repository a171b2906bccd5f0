"""Image-to-image retrieval (GPR1200): every image queries all images; mAP and per-domain mAP.

Declaration only (torch-free); the scoring is in `evaluate.py`. Definitions: docs/protocols.md §F.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lipeval.kinds.contract import KindOptions, KindSpec, option, tie_policy_option

@dataclass(frozen=True)
class ImageRetrievalOptions(KindOptions):
    KIND: ClassVar[str] = "image_retrieval"

    tie_policy: str = tie_policy_option()
    # false: GPR1200's protocol (the query is one of its own positives); true: the query is removed
    leave_one_out: bool = option(False, choices=(False, True))


SPEC = KindSpec(
    name="image_retrieval",
    evaluate="lipeval.kinds.image_retrieval.evaluate:evaluate",
    records="ImageRetrievalData",
    metrics=("mAP", "mAP_landmarks", "mAP_inat", "mAP_sketch", "mAP_instre", "mAP_sop", "mAP_faces"),
    options=ImageRetrievalOptions,
    main_metric="mAP",
    description="image-to-image retrieval (GPR1200)",
)
