"""Caption preprocessing rules of the long-text retrieval references (docs/protocols.md §B.2, §B.6).

Each rule is a pure function str -> str, named so that the name can be recorded in a result's
`protocol` and in the embedding-cache key:

* ``none``: the caption as read.
* ``lotlip_split``: LoTLIP's loaders split the caption at every ".", newline and "</s>", keep the
  stripped non-empty parts and join them with ". ". Decimals and abbreviations are split too
  ("3.5" -> "3. 5") and the final period disappears; that is the reference behaviour.
* ``newline_to_space``: Long-CLIP's ShareGPT4V-1k replaces each newline with a space; nothing else.

`split_sentences` is also what the non-reference ``subcaption_mean`` mode encodes one by one.
"""
from __future__ import annotations

import re
from typing import Callable

from lipeval.errors import ConfigError

_SENTENCE_BREAK = re.compile(r"\n|</s>|\.")


def split_sentences(text: str) -> list[str]:
    """The stripped, non-empty pieces of `text` between ".", newline and "</s>" (LoTLIP's split)."""
    return [p.strip() for p in _SENTENCE_BREAK.split(text) if p.strip()]


def lotlip_split(text: str) -> str:
    """Split at ".", newline and "</s>", then re-join the non-empty pieces with ". "."""
    return ". ".join(split_sentences(text))


def newline_to_space(text: str) -> str:
    return text.replace("\n", " ")


def _identity(text: str) -> str:
    return text


RULES: dict[str, Callable[[str], str]] = {
    "none": _identity,
    "lotlip_split": lotlip_split,
    "newline_to_space": newline_to_space,
}


def get_rule(name: str) -> Callable[[str], str]:
    """The rule registered as `name`, or ConfigError listing the known names."""
    try:
        return RULES[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"text_preprocessing {name!r}: unknown rule (known: {', '.join(RULES)})"
        ) from None


def preprocess(texts: list[str], name: str) -> list[str]:
    """Apply rule `name` to every caption, keeping the order."""
    rule = get_rule(name)
    return [rule(t) for t in texts]
