"""Multiple-choice caption selection (ARO, SugarCrepe): does the image score its true caption highest?

Scores are cosine similarities of the normalised image and option embeddings. Options that are the same to the
model (the same token ids after truncation) are embedded once, so they get identical embeddings and tie
exactly, as they would in any reference run up to floating-point noise. Definitions: docs/protocols.md §E.

Options (`CaptionSelectionOptions`):

* `tie_policy`: `pessimistic` (default; the true caption must beat every negative strictly), `optimistic`, or
  `reference` (the reference's own rule over all options: ARO's first-maximum `np.argmax`, SugarCrepe's strict
  `>`; `identical_options` does not apply).
* `identical_options`: `skip` (default): an option that is the same as the true caption to the model is not a
  negative, and is left out (an Order perturbation that changes nothing); `score`: it is scored like any
  option, so it ties with the true caption and the tie policy decides (with `pessimistic`, a miss, as ARO's
  VG rule does).
"""
from __future__ import annotations

import numpy as np
import torch

from lipeval.datasets.choice_records import ChoiceData
from lipeval.kinds.caption_selection import CaptionSelectionOptions
from lipeval.kinds.contract import Embedder, KindResult
from lipeval.metrics.selection import choice_chance, choice_correct, group_accuracy

_CHUNK = 4096


def unique_options(options: list[list[str]], key_of: dict[str, object]) -> tuple[list[str], np.ndarray]:
    """One string per distinct key (the first seen) and the (N, L) index of each option into them."""
    slot: dict[object, int] = {}
    texts: list[str] = []
    table = np.empty((len(options), len(options[0])), dtype=np.int64)
    for c, opts in enumerate(options):
        for j, t in enumerate(opts):
            k = key_of[t]
            if k not in slot:
                slot[k] = len(texts)
                texts.append(t)
            table[c, j] = slot[k]
    return texts, table


def option_scores(image_emb: torch.Tensor, text_emb: torch.Tensor, case_image, text_index) -> torch.Tensor:
    """(N, L) fp32 dot products of each case's image with each of its options, in chunks of cases."""
    image_emb, text_emb = image_emb.float(), text_emb.float()
    case_image = torch.as_tensor(np.asarray(case_image), dtype=torch.long)
    text_index = torch.as_tensor(text_index, dtype=torch.long)
    out = torch.empty(text_index.shape, dtype=torch.float32)
    for s in range(0, len(case_image), _CHUNK):
        img = image_emb[case_image[s:s + _CHUNK]][:, None, :]
        txt = text_emb[text_index[s:s + _CHUNK]]
        out[s:s + _CHUNK] = (img * txt).sum(dim=-1)  # elementwise, so equal operands give equal scores
    return out


def evaluate(data: ChoiceData, embedder: Embedder, options: CaptionSelectionOptions) -> KindResult:
    tie, identical = options.tie_policy, options.identical_options
    distinct = list(dict.fromkeys(t for opts in data.options for t in opts))
    # what makes two options the same to the model: the same token ids after truncation
    keys = embedder.text_identity(distinct).tolist()
    texts, text_index = unique_options(data.options, dict(zip(distinct, keys)))
    text_emb = embedder.texts(texts, preprocessing="none")
    image_emb = embedder.images(data.images)
    scores = option_scores(image_emb, text_emb, data.case_image, text_index)

    n, n_opt = text_index.shape
    answer = np.asarray(data.answer, dtype=np.int64)
    same_as_true = text_index == text_index[np.arange(n), answer][:, None]
    negatives = ~same_as_true if identical == "skip" else np.ones((n, n_opt), dtype=bool)
    negatives[np.arange(n), answer] = False
    correct = choice_correct(scores, answer, torch.from_numpy(negatives), tie_policy=tie,
                             rule=data.reference_rule).numpy()
    chance = choice_chance(negatives.sum(axis=1))

    metrics = {"accuracy": float(correct.mean())}
    chance_metrics = {"accuracy": float(chance.mean())}
    info = {"n_cases": n, "n_options": n_opt,
            "n_identical_options": int(same_as_true.sum() - n), "option_identity": "tokens",
            "reference_rule": data.reference_rule}
    if data.groups is not None:
        per, macro, counts = group_accuracy(correct, data.groups, data.macro_min_items, data.macro_exclude)
        per_chance, macro_chance, _ = group_accuracy(chance, data.groups, data.macro_min_items, data.macro_exclude)
        metrics["macro_accuracy"] = macro
        chance_metrics["macro_accuracy"] = macro_chance
        for g, v in per.items():
            metrics[f"{data.group_label}/{g}"] = v
            chance_metrics[f"{data.group_label}/{g}"] = per_chance[g]
        kept = [g for g in per if g not in data.macro_exclude]
        info.update({"n_groups": len(counts), "n_groups_reported": len(per), "n_groups_in_macro": len(kept),
                     "macro_min_items": data.macro_min_items, "macro_excluded": sorted(set(per) - set(kept)),
                     "group_counts": {g: counts[g] for g in per}})
    info.update(data.extra)
    return KindResult(metrics=metrics, chance=chance_metrics, n_images=len(data.images), n_texts=len(texts),
                      info=info, artifacts=dict(data.artifacts or {}))
