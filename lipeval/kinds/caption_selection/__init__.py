"""Multiple-choice caption selection (ARO, SugarCrepe): does the image score its true caption highest?

Declaration only (torch-free); the scoring is in `evaluate.py`. Definitions: docs/protocols.md §E.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lipeval.kinds.contract import KindOptions, KindSpec, option, tie_policy_option

IDENTICAL_OPTIONS = ("skip", "score")


@dataclass(frozen=True)
class CaptionSelectionOptions(KindOptions):
    KIND: ClassVar[str] = "caption_selection"

    tie_policy: str = tie_policy_option()
    # skip: an option the model cannot tell from the true caption is no negative; score: it ties with it
    identical_options: str = option("skip", choices=IDENTICAL_OPTIONS)


SPEC = KindSpec(
    name="caption_selection",
    evaluate="lipeval.kinds.caption_selection.evaluate:evaluate",
    records="ChoiceData",
    metrics=("accuracy", "macro_accuracy"),
    options=CaptionSelectionOptions,
    main_metric="accuracy",
    description="multiple-choice caption selection (ARO, SugarCrepe)",
)
