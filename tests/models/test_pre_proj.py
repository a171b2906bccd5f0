"""Pre-projection image features (linear probe) and their place in the embedding cache."""
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from lipeval.cache import EmbeddingCache
from lipeval.datasets.records import FileImages
from lipeval.embed import Embedder
from lipeval.errors import ConfigError
from lipeval.models.adapter import load_model


@pytest.fixture(scope="module")
def vit():
    return load_model("open_clip:lipeval-tiny-vit", seed=1)


@pytest.fixture(scope="module")
def rn():
    return load_model("open_clip:lipeval-tiny-rn", seed=1)


def _batch():
    return torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(0))


@torch.no_grad()
def test_vit_pre_proj_is_the_pooled_token_before_proj(vit):
    x = _batch()
    visual = vit.model.visual
    tokens = visual.transformer(visual._embeds(x))
    pooled = visual.ln_post(tokens)[:, 0]  # class-token pooling, ln_post applied, no projection
    feats = vit.encode_image_features(x, ("embed", "pre_proj"))
    assert feats["pre_proj"].shape == (3, visual.proj.shape[0])
    assert torch.allclose(feats["pre_proj"], pooled, atol=1e-5)
    assert torch.allclose(feats["embed"], F.normalize(pooled @ visual.proj, dim=-1), atol=1e-5)
    assert torch.allclose(feats["embed"], F.normalize(vit.model.encode_image(x), dim=-1), atol=1e-5)
    assert torch.equal(vit.encode_images(x), feats["embed"])  # the old call is unchanged
    assert isinstance(visual.proj, torch.nn.Parameter)  # the projection is back in place


@torch.no_grad()
def test_resnet_pre_proj_is_the_attention_pool_output(rn):
    x = _batch()
    out = rn.model.visual(x)
    feats = rn.encode_image_features(x, ("embed", "pre_proj"))
    assert torch.allclose(feats["pre_proj"], out, atol=1e-6)  # not normalised
    assert not torch.allclose(feats["pre_proj"].norm(dim=-1), torch.ones(3))
    assert torch.allclose(feats["embed"], F.normalize(out, dim=-1), atol=1e-6)


def test_unknown_tower_and_feature_name(rn, monkeypatch):
    with pytest.raises(ConfigError, match="image features 'tokens'"):
        rn.encode_images(_batch(), features="tokens")
    monkeypatch.setattr(rn.model, "visual", torch.nn.Identity())
    assert rn.image_feature_kinds() == ("embed",)
    with pytest.raises(ConfigError, match="features=embed"):
        rn.encode_images(_batch(), features="pre_proj")


def test_one_pass_fills_the_cache_for_both_feature_kinds(vit, tmp_path):
    for k in range(4):
        Image.new("RGB", (64, 64), (40 * k, 90, 200)).save(tmp_path / f"{k}.png")
    images = FileImages(tmp_path, [f"{k}.png" for k in range(4)])
    emb = Embedder(vit, EmbeddingCache(tmp_path / "cache"), batch_size=2)
    before = vit.calls["image_batches"]
    e = emb.images(images)
    assert vit.calls["image_batches"] - before == 2
    p = emb.images(images, features="pre_proj")
    assert vit.calls["image_batches"] - before == 2  # from the cache: the images were read once
    assert p.shape == (4, 128) and e.shape == (4, 128)
    assert torch.allclose(e, F.normalize(p @ vit.model.visual.proj.detach(), dim=-1), atol=1e-5)
    # the embedding's cache key is the one written before feature kinds existed
    assert emb._image_key(images, "embed") == emb._key("image", images.fingerprint(), vit.transform_id())
    assert emb._image_key(images, "pre_proj") != emb._image_key(images, "embed")
