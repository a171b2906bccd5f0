"""Model building: open_clip factory, trimmed text encoding, LiT lock, optimiser groups."""
import pytest
import torch

from lipeval.train.config import load_config
from lipeval.models.corner_text import CornerTextCLIP
from lipeval.train.model import ContrastiveModel, build
from lipeval.train.optim import build_optimizer, build_schedule, clamp_logit_scale, param_groups


@pytest.fixture(scope="module")
def clip_parts():
    torch.manual_seed(0)
    return build(load_config(None, ["model.arch=lipeval-tiny-rn"]))


def test_plain_model_text_encoding_equals_open_clip(clip_parts):
    import open_clip

    model, tok, *_ = clip_parts
    assert isinstance(model, CornerTextCLIP) and model.num_corners == 0
    text = tok(["a red circle", "a large blue star in the top left on a striped background"])
    assert text.shape[1] == 77
    with torch.no_grad():
        ours = model.encode_text(text)  # padding after the longest text dropped
        reference = open_clip.model.CLIP.encode_text(model, text)  # open_clip's own, all 77 positions
    assert torch.allclose(ours, reference, atol=1e-5)


def test_views_give_one_feature_each_or_all_corner_features():
    torch.manual_seed(0)
    cfg = load_config(None, ["model.arch=lipeval-tiny-rn-ctx128", "model.corner_tokens=2",
                             "data.texts=[{field: a}, {field: b, features: all}]"])
    model, tok, _, _, cfg_json = build(cfg)
    assert cfg_json["model_cfg"]["text_cfg"]["vocab_size"] == 49408 + 2
    assert cfg_json["lipeval"]["variant"] == "corner_text" and cfg_json["lipeval"]["context_length"] == 128
    m = ContrastiveModel(model, ["first", "all"])
    img, feats, scale = m(torch.zeros(2, 3, 64, 64), [tok(["a", "b"]), tok(["c d", "e f g"])])
    assert img.shape == (2, 128) and len(feats) == 1 + 3 and all(f.shape == (2, 128) for f in feats)
    assert scale.item() == pytest.approx(1 / 0.07, rel=1e-4)


def test_param_groups_exclude_gains_biases_embeddings(clip_parts):
    model = clip_parts[0]
    plain, decay = param_groups(model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    plain_names = {names[id(p)] for p in plain["params"]}
    decay_names = {names[id(p)] for p in decay["params"]}
    assert {"token_embedding.weight", "positional_embedding", "logit_scale", "ln_final.weight",
            "ln_final.bias"} <= plain_names
    assert "text_projection" in decay_names and "visual.conv1.weight" in decay_names
    assert not any(n.endswith(".bias") for n in decay_names)
    assert len(plain_names) + len(decay_names) == len(list(model.parameters()))
    assert plain["weight_decay"] == 0.0 and decay["weight_decay"] == 0.1


def test_schedule_warms_up_then_decays_and_logit_scale_is_clamped(clip_parts):
    model = clip_parts[0]
    opt = build_optimizer(model, load_config(None)["optim"])
    sched = build_schedule(opt, 1e-3, warmup=10, steps=100)
    lrs = [sched(s) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] < 1e-5
    assert all(g["lr"] == lrs[-1] for g in opt.param_groups)
    with torch.no_grad():
        model.logit_scale.fill_(7.0)
    clamp_logit_scale(model, 100.0)
    assert model.logit_scale.exp().item() == pytest.approx(100.0, rel=1e-5)
