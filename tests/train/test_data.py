"""Text views, manifests and the step-indexed sampler."""
import json

import numpy as np
import pytest

from lipeval.errors import ConfigError, DataError
from lipeval.text_preprocessing import split_sentences
from lipeval.train.data import StepBatchSampler, draw_text, read_manifest

LONG = "There are three shapes. A red circle in the top left. A blue star is in the centre. " \
       "The red circle is above the blue star. The background is grass."
RECORD = {"id": 1, "image": "a.jpg", "short_captions": ["a red circle", "red circle, top left"], "long_caption": LONG}


def test_split_sentences_follows_the_lotlip_rule():
    assert split_sentences("One. Two 3.5 apples\nThree</s>four.") == ["One", "Two 3", "5 apples", "Three", "four"]


def test_sentence_window_is_consecutive_and_inside_the_caption():
    sentences = split_sentences(LONG)
    seen = set()
    for k in range(60):
        text = draw_text(RECORD, {"field": "long_caption", "sentences": 3}, np.random.default_rng(k))
        parts = text.split(". ")
        assert len(parts) == 3
        start = sentences.index(parts[0])
        assert parts == sentences[start:start + 3]
        seen.add(start)
    assert seen == {0, 1, 2}  # every window start is drawn
    whole = draw_text(RECORD, {"field": "long_caption", "sentences": 9}, np.random.default_rng(0))
    assert whole.split(". ") == sentences


def test_list_fields_and_mixes_draw_per_sample():
    drawn = {draw_text(RECORD, {"field": "short_captions"}, np.random.default_rng(k)) for k in range(30)}
    assert drawn == set(RECORD["short_captions"])
    mixed = {draw_text(RECORD, {"field": ["short_captions", "long_caption"]}, np.random.default_rng(k))
             for k in range(40)}
    assert LONG in mixed and mixed & set(RECORD["short_captions"])
    with pytest.raises(DataError, match="no caption field 'caption'"):
        draw_text(RECORD, {"field": "caption"}, np.random.default_rng(0))


def test_manifests_jsonl_and_csv(tmp_path):
    jl = tmp_path / "m.jsonl"
    jl.write_text(json.dumps(RECORD) + "\n\n" + json.dumps({**RECORD, "id": 2}) + "\n")
    assert [r["id"] for r in read_manifest(jl)] == [1, 2]
    csv_file = tmp_path / "m.csv"
    csv_file.write_text('image,caption,long\na.jpg,"a red, round thing",long one\nb.jpg,a star,long two\n')
    rows = read_manifest(csv_file)
    assert rows[0] == {"image": "a.jpg", "caption": "a red, round thing", "long": "long one"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"image": "a.jpg"}\n{oops\n')
    with pytest.raises(DataError, match="bad.jsonl:2"):
        read_manifest(bad)


def test_rank_slices_make_up_the_global_batch_and_epochs_are_permutations():
    one = StepBatchSampler(20, 8, rank=0, world=1, seed=3, start=0, stop=6)
    r0 = StepBatchSampler(20, 8, rank=0, world=2, seed=3, start=0, stop=6)
    r1 = StepBatchSampler(20, 8, rank=1, world=2, seed=3, start=0, stop=6)
    for step, (a, b, c) in enumerate(zip(one, r0, r1)):
        assert a == b + c and len(b) == 4
        assert all(e == step // 2 for _, e in a)  # 20 // 8 = 2 steps per epoch
    epoch0 = [i for step in (0, 1) for i, _ in one.indices(step)]
    assert len(set(epoch0)) == 16  # no repeats inside an epoch
    resumed = StepBatchSampler(20, 8, rank=0, world=1, seed=3, start=4, stop=6)
    assert list(resumed) == [one.indices(4), one.indices(5)]
    with pytest.raises(ConfigError, match="divisible"):
        StepBatchSampler(20, 8, rank=0, world=3, seed=0, start=0, stop=1)
