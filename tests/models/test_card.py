"""Model cards: a cached card stands in for the model until something is not cached; any change to the
files the model is built from gives another card; a card that no longer matches its model is refused."""
import os

import pytest
import torch

from lipeval.cache import EmbeddingCache
from lipeval.errors import ConfigError
from lipeval.models.adapter import load_model
from lipeval.models.card import DeferredAdapter, adapter_for, card_key, card_of

ARCH = "lipeval-tiny-rn"


@pytest.fixture
def local_dir(save_local_dir):
    def make(folder, seed=0):
        save_local_dir(folder, load_model(f"open_clip:{ARCH}", seed=seed))
        return folder

    return make


def _adapter(spec, cache, seed=0):
    return adapter_for(spec, seed, "cpu", "fp32", cache, lambda: load_model(spec, seed=seed))


def test_which_models_get_a_card_and_what_changes_it(tmp_path, local_dir):
    assert card_key("open_clip:ViT-B-32/openai", 0) is None  # a pretrained tag: weights in a download cache
    assert card_key("hf-hub:org/name", 0) is None
    assert card_key("open_clip:RN50/missing.pt", 0) is None
    assert card_key(f"open_clip:{ARCH}", 0) != card_key(f"open_clip:{ARCH}", 1)  # random init: the seed
    folder = local_dir(tmp_path / "m")
    key = card_key(str(folder), 0)
    assert key is not None and key == card_key(str(folder), 0) and key != card_key(f"local-dir:{folder}", 0)
    weights = folder / "open_clip_model.safetensors"
    st = weights.stat()
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # rewritten weights: same size, newer file
    assert card_key(str(folder), 0) != key
    (folder / "notes.txt").write_text("a file added to the folder")
    assert len({key, card_key(str(folder), 0)}) == 2


def test_a_cached_card_defers_the_model_until_it_is_needed(tmp_path, local_dir):
    cache = EmbeddingCache(tmp_path / "cache")
    spec = str(local_dir(tmp_path / "m", seed=5))
    loaded = _adapter(spec, cache)
    assert not isinstance(loaded, DeferredAdapter)
    deferred = _adapter(spec, cache)
    assert isinstance(deferred, DeferredAdapter) and deferred.loaded is None
    assert (deferred.fingerprint, deferred.context_length, deferred.truncation) == (
        loaded.fingerprint, loaded.context_length, loaded.truncation)
    assert deferred.describe() == loaded.describe() and deferred.transform_id() == loaded.transform_id()
    assert deferred.loaded is None  # identity questions never load the model
    texts = ["a red circle", "a blue square"]
    assert torch.equal(deferred.encode_texts(texts), loaded.encode_texts(texts))
    assert deferred.loaded is not None and card_of(deferred.loaded) == deferred.card
    assert _adapter(spec, EmbeddingCache(None)).__class__ is loaded.__class__  # no cache folder: no card


def test_a_card_that_no_longer_matches_its_model_is_refused_and_removed(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    spec = f"open_clip:{ARCH}"
    _adapter(spec, cache)
    key = card_key(spec, 0)
    stale = {**cache.get_json(key), "fingerprint": "0" * 16}
    cache.put_json(key, stale)
    deferred = _adapter(spec, cache)
    assert deferred.fingerprint == "0" * 16
    with pytest.raises(ConfigError, match="no longer matches"):
        deferred.encode_texts(["a red circle"])
    assert cache.get_json(key) is None
    assert not isinstance(_adapter(spec, cache), DeferredAdapter)  # the next run loads and keeps a new card
