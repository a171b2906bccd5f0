"""Caption preprocessing rules (docs/protocols.md §B.2 LoTLIP split/re-join, §B.6 Long-CLIP newline -> space)."""
from __future__ import annotations

import pytest

from lipeval.errors import ConfigError
from lipeval.text_preprocessing import RULES, get_rule, lotlip_split, newline_to_space, preprocess, split_sentences


def test_split_at_every_period_newline_and_eos_token():
    text = "A man walks. He has 3.5 dollars, e.g. coins.\nNext line</s>after token..  \n\n  last one."
    assert split_sentences(text) == [
        "A man walks", "He has 3", "5 dollars, e", "g", "coins", "Next line", "after token", "last one",
    ]
    # re-joined with ". ": decimals and abbreviations are split too, the final period disappears
    assert lotlip_split(text) == "A man walks. He has 3. 5 dollars, e. g. coins. Next line. after token. last one"


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("...\n\n</s>", ""),
    ("no break at all", "no break at all"),
    ("  padded  .  parts  ", "padded. parts"),
    ("Short caption\nExtra caption. More.", "Short caption. Extra caption. More"),  # DCI's short\nextra
])
def test_lotlip_split_hand_cases(text, expected):
    assert lotlip_split(text) == expected


def test_lotlip_split_is_idempotent():
    once = lotlip_split("One. Two.\nThree</s>Four.")
    assert lotlip_split(once) == once == "One. Two. Three. Four"


def test_newline_to_space_touches_nothing_else():
    assert newline_to_space("Para one. 3.5 m.\n\nPara two.\n") == "Para one. 3.5 m.  Para two. "


def test_rules_by_name():
    assert set(RULES) == {"none", "lotlip_split", "newline_to_space"}
    assert preprocess(["a.b", "c\nd"], "none") == ["a.b", "c\nd"]
    assert preprocess(["a.b", "c\nd"], "lotlip_split") == ["a. b", "c. d"]
    assert preprocess(["a.b", "c\nd"], "newline_to_space") == ["a.b", "c d"]
    with pytest.raises(ConfigError, match="unknown rule.*lotlip_split"):
        get_rule("lotlip")
