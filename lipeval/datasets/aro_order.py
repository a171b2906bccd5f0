"""ARO's COCO-Order and Flickr30k-Order (docs/protocols.md §E.1): Karpathy-test captions with four perturbations.

Every caption of the test split becomes a case: its image and five options (the normalised caption first,
then its four word-order perturbations; see `order_perturbations`). The captions come from the `coco/` and
`flickr30k/` folders the retrieval tasks read; the reference iterates the BLIP files
(`coco_karpathy_test.json`, `flickr30k_test.json`), so those are preferred when present, because the order of
the captions decides which random draws each one gets.

Options come from, in this order: a perturbation file in the data folder (`aro_order_perturbations.json`
by default; every run that generates perturbations writes one next to its results, ready to copy there),
or generation with spaCy + NLTK. Without either, the task is skipped with the install instruction.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets import coco, flickr
from lipeval.datasets.choice_records import ChoiceData
from lipeval.datasets.files import first_present
from lipeval.datasets.order_perturbations import (MAX_WORDS, SEED, generate_options, load_language_tools,
                                                  perturbation_file_text, read_perturbation_file)
from lipeval.datasets.records import RetrievalData

PERTURBATION_FILE = "aro_order_perturbations.json"
ARTIFACT = "perturbations.json"  # written next to the result as <task>.perturbations.json


def _order_cases(data: RetrievalData, root: Path, perturbations: str, seed: int, max_words: int) -> ChoiceData:
    images = [data.images.ids[i] for i in data.text_image]
    annotation = Path(data.source).name
    file = root / perturbations
    if file.is_file():
        options, provenance = read_perturbation_file(file, images, data.texts, max_words)
        artifacts = {}
    else:
        tag, tokenize, versions = load_language_tools(
            f"or put a perturbation file written by an earlier run at {file}")
        options = generate_options(data.texts, tag, tokenize, seed, max_words)
        provenance = {"perturbations": "generated", "seed": seed, "generator": versions}
        artifacts = {ARTIFACT: perturbation_file_text(images, data.texts, options, annotation, seed, max_words,
                                                      versions)}
    return ChoiceData(data.images, list(data.text_image), options, [0] * len(options), reference_rule="argmax",
                      source=data.source, extra={**provenance, "max_words": max_words}, artifacts=artifacts)


def read_coco_order(root: Path, annotation: str | None = None, perturbations: str = PERTURBATION_FILE,
                    seed: int = SEED, max_words: int = MAX_WORDS) -> ChoiceData:
    """COCO-Order from `coco/` (BLIP `coco_karpathy_test.json` preferred, else the COCO-captions file)."""
    root = Path(root)
    name = annotation if annotation is not None else first_present(root, (coco.BLIP_NAME, coco.COCO_CAPTIONS_NAME))
    return _order_cases(coco.read_coco_karpathy(root, annotation=name), root, perturbations, seed, max_words)


def read_flickr30k_order(root: Path, annotation: str | None = None, perturbations: str = PERTURBATION_FILE,
                         seed: int = SEED, max_words: int = MAX_WORDS) -> ChoiceData:
    """Flickr30k-Order from `flickr30k/` (BLIP `flickr30k_test.json` preferred, else the CSV)."""
    root = Path(root)
    name = annotation if annotation is not None else first_present(root, (flickr.BLIP_NAME, flickr.CSV_NAME))
    return _order_cases(flickr.read_flickr30k_karpathy(root, annotation=name), root, perturbations, seed,
                        max_words)
