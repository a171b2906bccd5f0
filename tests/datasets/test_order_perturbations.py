"""ARO Order perturbations: pre_caption, each shuffle's contract, call-for-call randomness, the file, the readers."""
from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter

import numpy as np
import pytest

from lipeval.datasets import aro_order, order_perturbations as op
from lipeval.datasets.aro_order import read_coco_order, read_flickr30k_order
from lipeval.errors import DataError, DataMissing

TAGS = {"man": "NN", "horse": "NN", "field": "NN", "dogs": "NNS", "park": "NN", "hat": "NN", "Paris": "NNP",
        "brown": "JJ", "big": "JJ", "green": "JJ", "taller": "JJR", "small": "JJ", "red": "JJ"}
CAPTIONS = [
    "A man riding a brown horse in a big green field.",
    "Two small dogs play in the park; one wears a red hat!",
    "A taller man (in Paris) walks   the dogs",
    "horse",
    "",
]


def tokenize(text):
    return re.findall(r"\w+|[^\w\s]", text)


def tag(text):
    return [(t, TAGS.get(t, "DT" if t.lower() in ("a", "the") else "." if not t.isalnum() else "VB"))
            for t in tokenize(text)]


def test_pre_caption_hand_cases():
    assert op.pre_caption('A Man, riding "a" horse.') == "a man, riding a horse"
    assert op.pre_caption("  (two)   dogs;  ~run~ \n") == "two dogs run"
    assert op.pre_caption("tab\tstays") == "tab\tstays"  # one whitespace character is not a run
    long = " ".join(f"w{i}" for i in range(40))
    assert op.pre_caption(long) == " ".join(f"w{i}" for i in range(30))
    assert op.pre_caption(long, max_words=5) == "w0 w1 w2 w3 w4"


def test_trigrams():
    assert op.trigrams(list("abcdefgh")) == [["a", "b", "c"], ["d", "e", "f"], ["g", "h"]]
    assert op.trigrams([]) == []


def test_each_perturbation_keeps_what_it_must():
    rs, rng = np.random.RandomState(0), random.Random(0)
    for caption in CAPTIONS[:3]:
        tagged = tag(caption)
        toks = [t for t, _ in tagged]
        nouns = {i for i, (_, g) in enumerate(tagged) if g in op.NOUN_TAGS}
        adjs = {i for i, (_, g) in enumerate(tagged) if g in op.ADJECTIVE_TAGS}
        for _ in range(5):
            p1 = op.shuffle_nouns_and_adjectives(tagged, rs).split(" ")
            assert all(p1[i] == toks[i] for i in range(len(toks)) if i not in nouns | adjs)
            assert Counter(p1[i] for i in nouns) == Counter(toks[i] for i in nouns)
            assert Counter(p1[i] for i in adjs) == Counter(toks[i] for i in adjs)
            p2 = op.shuffle_all_but_nouns_and_adjectives(tagged, rs).split(" ")
            assert all(p2[i] == toks[i] for i in nouns | adjs) and Counter(p2) == Counter(toks)
            words = tokenize(caption)
            p3 = op.shuffle_within_trigrams(words, rng).split(" ")
            assert [Counter(c) for c in op.trigrams(p3)] == [Counter(c) for c in op.trigrams(words)]
            p4 = op.shuffle_trigrams(words, rng).split(" ")
            assert Counter(p4) == Counter(words)
            if len(words) % 3 == 0:  # otherwise the short last chunk may move and shift the cut
                assert Counter(map(tuple, op.trigrams(p4))) == Counter(map(tuple, op.trigrams(words)))


def _reference_style(captions, seed=1, max_words=30):
    """The docs/protocols.md §E.1 recipe with the global generators, as ARO's main_aro.py + TextShuffler run it:
    seed_all(1), then per caption: pre(orig), then the four perturbations of the raw caption in order."""
    random.seed(seed)
    np.random.seed(seed)
    out = []
    for cap in captions:
        tagged = tag(cap)
        text = np.array([t for t, _ in tagged])
        noun_idx = [i for i, (_, g) in enumerate(tagged) if g in ("NN", "NNS", "NNP", "NNPS")]
        adj_idx = [i for i, (_, g) in enumerate(tagged) if g in ("JJ", "JJR", "JJS")]
        text[noun_idx] = np.random.permutation(text[noun_idx])
        text[adj_idx] = np.random.permutation(text[adj_idx])
        p1 = " ".join(text)
        text = np.array([t for t, _ in tagged])
        other = np.ones(text.shape[0])
        other[noun_idx + adj_idx] = 0
        other = other.astype(bool)
        text[other] = np.random.permutation(text[other])
        p2 = " ".join(text)
        words = tokenize(cap)
        chunks = [words[i:i + 3] for i in range(0, len(words), 3)]
        for c in chunks:
            random.shuffle(c)
        p3 = " ".join(" ".join(c) for c in chunks)
        chunks = [words[i:i + 3] for i in range(0, len(words), 3)]
        random.shuffle(chunks)
        p4 = " ".join(" ".join(c) for c in chunks)
        out.append([op.pre_caption(x, max_words) for x in (cap, p1, p2, p3, p4)])
    return out


def test_draws_follow_the_reference_call_order():
    captions = CAPTIONS[:4] * 3
    got = op.generate_options(captions, tag, tokenize, seed=1)
    assert got == _reference_style(captions)
    assert got != op.generate_options(captions, tag, tokenize, seed=2)
    assert got[0][0] == "a man riding a brown horse in a big green field"
    assert op.generate_options(["horse"], tag, tokenize) == [["horse"] * 5]


def test_missing_spacy_is_skipped_with_the_install_instruction(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ImportError
    with pytest.raises(op.TaggerMissing) as e:
        op.load_language_tools()
    assert isinstance(e.value, DataMissing)
    assert "spaCy" in str(e.value) and op.INSTALL in str(e.value)
    assert 'pip install "lipeval[order]"' in op.INSTALL and "spacy download en_core_web_sm" in op.INSTALL


def test_missing_spacy_model_or_nltk_data_is_skipped(monkeypatch):
    class FakeSpacy:
        __version__ = "3.x"

        @staticmethod
        def load(name):
            raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setitem(sys.modules, "spacy", FakeSpacy)
    with pytest.raises(op.TaggerMissing, match="en_core_web_sm"):
        op.load_language_tools()

    class FakeNlp:
        meta = {"version": "3.8.0"}

    class FakeNltk:
        __version__ = "3.9"

        @staticmethod
        def word_tokenize(text):
            raise LookupError("Resource punkt_tab not found")

    FakeSpacy.load = staticmethod(lambda name: FakeNlp())
    monkeypatch.setitem(sys.modules, "nltk", FakeNltk)
    with pytest.raises(op.TaggerMissing, match="punkt_tab"):
        op.load_language_tools()


def _blip_coco(root, fx):
    fx.write_image(root / "val2014" / "COCO_val2014_000000000001.jpg")
    fx.write_image(root / "val2014" / "COCO_val2014_000000000002.jpg")
    entries = [{"image": "val2014/COCO_val2014_000000000001.jpg", "caption": CAPTIONS[:2]},
               {"image": "val2014/COCO_val2014_000000000002.jpg", "caption": [CAPTIONS[2]]}]
    fx.write_json(root / "coco_karpathy_test.json", entries)


def test_coco_order_generates_and_hands_back_the_file(tmp_path, fx, monkeypatch):
    root = tmp_path / "coco"
    _blip_coco(root, fx)
    monkeypatch.setattr(aro_order, "load_language_tools", lambda hint="": (tag, tokenize, {"spacy": "fake"}))
    data = read_coco_order(root)
    assert data.case_image == [0, 0, 1] and data.answer == [0, 0, 0] and data.n_options == 5
    assert data.options == _reference_style(CAPTIONS[:3])
    assert data.extra["perturbations"] == "generated" and data.extra["seed"] == 1
    text = data.artifacts[aro_order.ARTIFACT]
    # the handed-back file, put in the data folder, is read instead of generating
    (root / aro_order.PERTURBATION_FILE).write_text(text)
    monkeypatch.setattr(aro_order, "load_language_tools", None)  # generation would now fail
    again = read_coco_order(root)
    assert again.options == data.options and again.artifacts == {}
    assert again.extra["perturbations"].endswith(aro_order.PERTURBATION_FILE)
    assert again.extra["generator"] == {"spacy": "fake"}


def test_order_without_tagger_or_file_is_skipped(tmp_path, fx, monkeypatch):
    root = tmp_path / "coco"
    _blip_coco(root, fx)
    monkeypatch.setitem(sys.modules, "spacy", None)
    with pytest.raises(op.TaggerMissing, match=re.escape(op.INSTALL)) as e:
        read_coco_order(root)
    assert aro_order.PERTURBATION_FILE in str(e.value)
    with pytest.raises(DataMissing, match="flickr30k_test.json"):
        read_flickr30k_order(tmp_path / "flickr30k")


def test_flickr_order_prefers_the_blip_json(tmp_path, fx, monkeypatch):
    root = tmp_path / "flickr30k"
    fx.write_image(root / "flickr30k-images" / "1.jpg")
    fx.write_json(root / "flickr30k_test.json", [{"image": "flickr30k-images/1.jpg", "caption": ["a big man ."]}])
    (root / "flickr30k_test_karpathy.txt").write_text("image,caption\n1.jpg,other caption\n")
    monkeypatch.setattr(aro_order, "load_language_tools", lambda hint="": (tag, tokenize, {}))
    data = read_flickr30k_order(root)
    assert data.source.endswith("flickr30k_test.json") and data.options[0][0] == "a big man"


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.update(format="other"), "not a lipeval Order perturbation file"),
    (lambda d: d.update(max_words=20), "'max_words' is 20"),
    (lambda d: d["cases"].pop(), "2 cases, but the annotation has 3 captions"),
    (lambda d: d["cases"][1].update(caption="changed"), r"cases\[1\] is"),
    (lambda d: d["cases"][2]["options"].pop(), r"cases\[2\] field 'options'"),
    (lambda d: d["cases"][0]["options"].__setitem__(0, "x"), r"cases\[0\] option 0"),
])
def test_malformed_perturbation_file_names_the_case(tmp_path, fx, monkeypatch, mutate, message):
    root = tmp_path / "coco"
    _blip_coco(root, fx)
    monkeypatch.setattr(aro_order, "load_language_tools", lambda hint="": (tag, tokenize, {}))
    doc = json.loads(read_coco_order(root).artifacts[aro_order.ARTIFACT])
    mutate(doc)
    (root / aro_order.PERTURBATION_FILE).write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message):
        read_coco_order(root)
