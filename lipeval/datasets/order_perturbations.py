"""The four word-order perturbations of ARO's COCO-Order and Flickr30k-Order (docs/protocols.md §E.1).

For a caption the options are `[pre(c), pre(p1(c)), pre(p2(c)), pre(p3(c)), pre(p4(c))]`, true first:

1. nouns shuffled among themselves and, separately, adjectives among themselves (part-of-speech tags from
   spaCy's `en_core_web_sm`: NN/NNS/NNP/NNPS and JJ/JJR/JJS); tokens re-joined with single spaces;
2. every token that is neither noun nor adjective shuffled among the others;
3. the words (NLTK's `word_tokenize`) cut into consecutive trigrams (the last may be shorter), each shuffled;
4. the same trigrams, their order shuffled.

`pre` is `pre_caption`: lower-case, each of `.!"()*#:;~` replaced by a space, runs of two or more whitespace
characters collapsed to one space, the result stripped, and only its first `max_words` (30) space-separated
words kept. It is applied to the raw caption and to each perturbation of the raw caption.

Randomness follows the reference call for call: perturbations 1-2 draw from numpy's legacy generator
(`RandomState(seed).permutation`), 3-4 from Python's `random.Random(seed).shuffle`, one caption after the
other in file order, with seed 1 (ARO's `seed_all(1)`). Identical strings also need the same spaCy model and
NLTK versions, which are recorded with the generated file.

A file of precomputed perturbations (written by every run that generates them) replaces the generation, so
a machine without spaCy can reuse them; see `read_perturbation_file`.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from lipeval.datasets.files import read_json
from lipeval.errors import DataError, DataMissing

MAX_WORDS = 30
SEED = 1
NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
ADJECTIVE_TAGS = frozenset({"JJ", "JJR", "JJS"})
SPACY_MODEL = "en_core_web_sm"
NLTK_RESOURCE = "punkt_tab"
INSTALL = (f'pip install "lipeval[order]" && python -m spacy download {SPACY_MODEL} '
           f"&& python -m nltk.downloader {NLTK_RESOURCE}")
FILE_FORMAT = "lipeval-aro-order-perturbations"
FILE_VERSION = 1
N_OPTIONS = 5

Tagger = Callable[[str], Sequence[tuple[str, str]]]  # caption -> [(token text, Penn Treebank tag)]
WordTokenizer = Callable[[str], Sequence[str]]

_PUNCT = re.compile(r'[.!"()*#:;~]')
_SPACES = re.compile(r"\s{2,}")


class TaggerMissing(DataMissing):
    """spaCy's English model or NLTK's tokenizer is not installed: the Order task is skipped, not degraded."""


def pre_caption(caption: str, max_words: int = MAX_WORDS) -> str:
    """ARO's caption normalisation (see the module docstring)."""
    text = _SPACES.sub(" ", _PUNCT.sub(" ", caption.lower()))
    text = text.rstrip("\n").strip(" ")
    words = text.split(" ")
    return " ".join(words[:max_words]) if len(words) > max_words else text


def _permute_where(tokens: Sequence[str], mask: Sequence[bool], rs: np.random.RandomState) -> list[str]:
    """The tokens with those under `mask` permuted among themselves by `rs.permutation`."""
    arr = np.array(list(tokens), dtype=str)
    chosen = np.asarray(mask, dtype=bool)
    arr[chosen] = rs.permutation(arr[chosen])
    return [str(t) for t in arr]


def shuffle_nouns_and_adjectives(tagged: Sequence[tuple[str, str]], rs: np.random.RandomState) -> str:
    """Perturbation 1: nouns permuted among nouns, then adjectives among adjectives."""
    tokens = [t for t, _ in tagged]
    tokens = _permute_where(tokens, [tag in NOUN_TAGS for _, tag in tagged], rs)
    tokens = _permute_where(tokens, [tag in ADJECTIVE_TAGS for _, tag in tagged], rs)
    return " ".join(tokens)


def shuffle_all_but_nouns_and_adjectives(tagged: Sequence[tuple[str, str]], rs: np.random.RandomState) -> str:
    """Perturbation 2: every token that is not a noun or an adjective permuted among the others."""
    keep = NOUN_TAGS | ADJECTIVE_TAGS
    return " ".join(_permute_where([t for t, _ in tagged], [tag not in keep for _, tag in tagged], rs))


def trigrams(words: Sequence[str]) -> list[list[str]]:
    """Consecutive chunks of three words; the last chunk holds what is left (1-3 words)."""
    return [list(words[i:i + 3]) for i in range(0, len(words), 3)]


def shuffle_within_trigrams(words: Sequence[str], rng: random.Random) -> str:
    """Perturbation 3: each trigram shuffled in place, in order."""
    chunks = trigrams(words)
    for chunk in chunks:
        rng.shuffle(chunk)
    return " ".join(" ".join(chunk) for chunk in chunks)


def shuffle_trigrams(words: Sequence[str], rng: random.Random) -> str:
    """Perturbation 4: the order of the trigrams shuffled."""
    chunks = trigrams(words)
    rng.shuffle(chunks)
    return " ".join(" ".join(chunk) for chunk in chunks)


class OrderPerturber:
    """Generates the five options of each caption, drawing from one seeded stream per generator."""

    def __init__(self, tag: Tagger, word_tokenize: WordTokenizer, seed: int = SEED, max_words: int = MAX_WORDS):
        self.tag, self.word_tokenize, self.max_words = tag, word_tokenize, max_words
        self.rs = np.random.RandomState(seed)
        self.rng = random.Random(seed)

    def options(self, caption: str) -> list[str]:
        tagged = list(self.tag(caption))
        words = list(self.word_tokenize(caption))
        perturbed = [
            shuffle_nouns_and_adjectives(tagged, self.rs),
            shuffle_all_but_nouns_and_adjectives(tagged, self.rs),
            shuffle_within_trigrams(words, self.rng),
            shuffle_trigrams(words, self.rng),
        ]
        return [pre_caption(c, self.max_words) for c in [caption, *perturbed]]


def load_language_tools(missing_hint: str = "") -> tuple[Tagger, WordTokenizer, dict]:
    """spaCy's `en_core_web_sm` tagger and NLTK's `word_tokenize`, with their versions.

    Raises TaggerMissing (the task is then skipped) with the exact install instruction when either is absent.
    """
    def missing(what: str) -> TaggerMissing:
        return TaggerMissing(f"the word-order perturbations need {what}; install with: {INSTALL}"
                             + (f"; {missing_hint}" if missing_hint else ""))

    try:
        import spacy
    except ImportError:
        raise missing("spaCy (not installed)") from None
    try:
        nlp = spacy.load(SPACY_MODEL)
    except OSError:
        raise missing(f"spaCy's English model {SPACY_MODEL} (not installed)") from None
    try:
        import nltk

        nltk.word_tokenize("A check.")
    except ImportError:
        raise missing("NLTK (not installed)") from None
    except LookupError:
        raise missing(f"NLTK's {NLTK_RESOURCE} tokenizer data (not downloaded)") from None

    def tag(text: str) -> list[tuple[str, str]]:
        return [(t.text, t.tag_) for t in nlp(text)]

    versions = {"spacy": spacy.__version__, SPACY_MODEL: str(nlp.meta.get("version", "?")), "nltk": nltk.__version__}
    return tag, nltk.word_tokenize, versions


def generate_options(captions: Sequence[str], tag: Tagger, word_tokenize: WordTokenizer, seed: int = SEED,
                     max_words: int = MAX_WORDS) -> list[list[str]]:
    """The five options of every caption, in order, from one seeded perturber."""
    perturber = OrderPerturber(tag, word_tokenize, seed, max_words)
    return [perturber.options(c) for c in captions]


def perturbation_file_text(images: Sequence[str], captions: Sequence[str], options: Sequence[Sequence[str]],
                           annotation: str, seed: int, max_words: int, generator: dict) -> str:
    """The reusable JSON file: provenance plus one case per caption (image, raw caption, five options)."""
    head = {"format": FILE_FORMAT, "version": FILE_VERSION, "annotation": annotation, "seed": seed,
            "max_words": max_words, "generator": generator}
    cases = [json.dumps({"image": i, "caption": c, "options": list(o)}, ensure_ascii=False)
             for i, c, o in zip(images, captions, options, strict=True)]
    head_text = json.dumps(head, sort_keys=True, ensure_ascii=False)
    return head_text[:-1] + ', "cases": [\n' + ",\n".join(cases) + "\n]}\n"


def read_perturbation_file(path: Path, images: Sequence[str], captions: Sequence[str],
                           max_words: int = MAX_WORDS) -> tuple[list[list[str]], dict]:
    """The options stored in `path`, checked against the annotation's (image, caption) list, and provenance.

    The file must hold one case per caption in the annotation's order, each with 5 options whose first is
    `pre_caption(caption)` under the file's `max_words`, which must equal `max_words`. Anything else is a
    DataError naming the file and the case.
    """
    data = read_json(path, f'a lipeval Order perturbation file, a JSON object with "format": "{FILE_FORMAT}"')
    if not isinstance(data, dict) or data.get("format") != FILE_FORMAT:
        raise DataError(f"{path}: not a lipeval Order perturbation file (expected a JSON object with "
                        f'"format": "{FILE_FORMAT}")')
    if data.get("version") != FILE_VERSION:
        raise DataError(f"{path}: field 'version' is {data.get('version')!r}, expected {FILE_VERSION}")
    if data.get("max_words") != max_words:
        raise DataError(f"{path}: field 'max_words' is {data.get('max_words')!r}, but the task truncates "
                        f"to {max_words} words")
    cases = data.get("cases")
    if not isinstance(cases, list):
        raise DataError(f"{path}: field 'cases' must be a list of {{image, caption, options}}")
    if len(cases) != len(captions):
        raise DataError(f"{path}: {len(cases)} cases, but the annotation has {len(captions)} captions")
    options = []
    for k, (case, image, caption) in enumerate(zip(cases, images, captions)):
        if not isinstance(case, dict):
            raise DataError(f"{path}: cases[{k}] is not an object {{image, caption, options}}")
        if case.get("image") != image or case.get("caption") != caption:
            raise DataError(f"{path}: cases[{k}] is ({case.get('image')!r}, {case.get('caption')!r}), but the "
                            f"annotation's caption {k} is ({image!r}, {caption!r})")
        opts = case.get("options")
        if not isinstance(opts, list) or len(opts) != N_OPTIONS or not all(isinstance(o, str) for o in opts):
            raise DataError(f"{path}: cases[{k}] field 'options' must be a list of {N_OPTIONS} strings")
        if opts[0] != pre_caption(caption, max_words):
            raise DataError(f"{path}: cases[{k}] option 0 {opts[0]!r} is not the normalised caption "
                            f"{pre_caption(caption, max_words)!r}")
        options.append(opts)
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    provenance = {"perturbations": str(path), "perturbations_sha256": digest, "seed": data.get("seed"),
                  "generator": data.get("generator")}
    return options, provenance
