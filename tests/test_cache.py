import numpy as np

from lipeval.cache import EmbeddingCache, cache_key


def test_round_trip_and_key_sensitivity(tmp_path):
    cache = EmbeddingCache(tmp_path)
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    k = cache_key(model="m", data="d", precision="fp32")
    assert cache.get(k) is None and cache.misses == 1
    cache.put(k, a)
    np.testing.assert_array_equal(cache.get(k), a)
    assert cache.hits == 1
    assert cache_key(model="m", data="d", precision="bf16") != k
    assert cache_key(precision="fp32", data="d", model="m") == k  # order of parts does not matter


def test_unreadable_entry_is_a_miss_and_gets_rewritten(tmp_path):
    cache = EmbeddingCache(tmp_path)
    k = cache_key(x=1)
    cache.put(k, np.ones((2, 2), np.float32))
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(b"\x93NUMPY garbage")
    assert cache.get(k) is None
    cache.put(k, np.zeros((2, 2), np.float32))
    np.testing.assert_array_equal(cache.get(k), np.zeros((2, 2)))


def test_disabled_cache_stores_nothing(tmp_path):
    cache = EmbeddingCache(None)
    cache.put("k", np.ones(3, np.float32))
    assert cache.get("k") is None


def test_integer_entries_keep_their_type_and_json_entries_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path)
    counts = np.array([2**40 + 1, -1, 7], dtype=np.int64)  # beyond float32's exact integers
    cache.put(cache_key(x="counts"), counts)
    got = cache.get(cache_key(x="counts"))
    assert got.dtype == np.int64 and got.tolist() == counts.tolist()
    cache.put(cache_key(x="f64"), np.array([0.1], dtype=np.float64))
    assert cache.get(cache_key(x="f64")).dtype == np.float32  # embeddings are stored as float32
    k = cache_key(x="card")
    assert cache.get_json(k) is None
    cache.put_json(k, {"b": 1, "a": [1, "x"]})
    assert list(cache.get_json(k)) == ["b", "a"] and cache.get_json(k)["a"] == [1, "x"]
    next(tmp_path.rglob("*.json")).write_text("{not json")
    assert cache.get_json(k) is None  # unreadable: a miss
    cache.remove_json(k)
    assert cache.get_json(k) is None and not list(tmp_path.rglob("*.json"))
    assert EmbeddingCache(None).get_json(k) is None
