"""Image–text retrieval (COCO/Flickr and the long-text sets): every caption belongs to one image.

Declaration only (torch-free); the scoring is in `evaluate.py`. Definitions: docs/protocols.md §A.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lipeval.kinds.contract import KindOptions, KindSpec, option, tie_policy_option
from lipeval.text_preprocessing import RULES

RETRIEVAL_KS = (1, 5, 10)
LONG_TEXT_MODES = ("reference", "subcaption_mean")


@dataclass(frozen=True)
class RetrievalOptions(KindOptions):
    KIND: ClassVar[str] = "retrieval"

    tie_policy: str = tie_policy_option()
    # prepended to every encoded string, e.g. ALIP's "a photo of "
    caption_prefix: str = option("", expected="a string (prepended to every caption)")
    # a rule of lipeval.text_preprocessing (the long-text tasks set their reference's rule)
    text_preprocessing: str = option("none", choices=tuple(RULES))
    # reference: one embedding per caption; subcaption_mean: the NON-REFERENCE mean of sentence embeddings
    long_text_mode: str = option("reference", choices=LONG_TEXT_MODES)


SPEC = KindSpec(
    name="retrieval",
    evaluate="lipeval.kinds.retrieval.evaluate:evaluate",
    records="RetrievalData",
    metrics=tuple(f"{d}_R@{k}" for d in ("image_to_text", "text_to_image") for k in RETRIEVAL_KS) + ("mean_R@1",),
    options=RetrievalOptions,
    main_metric="mean_R@1",
    description="image-text retrieval: R@1/5/10 in both directions",
)
