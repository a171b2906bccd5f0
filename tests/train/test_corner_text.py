"""Corner tokens (LoTLIP, causal CLIP-text variant): mask, token layout, features."""
import copy

import pytest
import torch

from lipeval.models import corner_text
from lipeval.models.corner_text import (CornerTokenizer, corner_attention_allowed, corner_attention_mask,
                                        insert_corners)


def test_attention_mask_of_a_small_example():
    # L = 6, K = 2: [SOT] text [C0] [C1] [EOT] [PAD]; EOT at position 4.
    allowed = corner_attention_allowed(torch.tensor([4]), seq_len=6, num_corners=2)[0].int()
    expected = torch.tensor([
        # keys: SOT txt C0 C1 EOT PAD
        [1, 0, 0, 0, 0, 0],  # SOT: causal
        [1, 1, 0, 0, 0, 0],  # text: causal, never a corner
        [1, 1, 1, 0, 0, 0],  # C0: the text and itself
        [1, 1, 0, 1, 0, 0],  # C1: the text and itself, not C0
        [1, 1, 0, 0, 1, 0],  # EOT: the text and itself, no corner
        [1, 1, 0, 0, 0, 1],  # PAD: causal but closed to the special positions
    ])
    assert torch.equal(allowed, expected)


def test_mask_is_per_sample_and_additive_per_head():
    eot = torch.tensor([3, 5])
    mask = corner_attention_mask(eot, seq_len=6, num_corners=1, heads=2)
    assert mask.shape == (4, 6, 6)
    assert torch.equal(mask[0], mask[1]) and torch.equal(mask[2], mask[3])  # heads of one sample agree
    assert mask[0, 3, 2] == float("-inf") and mask[0, 3, 3] == 0  # sample 0: corner at 2, EOT at 3
    assert mask[2, 3, 2] == 0 and mask[2, 5, 4] == float("-inf")  # sample 1: corner at 4, EOT at 5


def test_insert_corners_places_them_before_eot():
    eot = 7
    tokens = torch.tensor([[9, 5, 3, eot, 0, 0], [9, 1, 2, 3, 4, eot]])
    out = insert_corners(tokens, eot, [100, 101])
    assert out.tolist() == [[9, 5, 3, 100, 101, eot, 0, 0], [9, 1, 2, 3, 4, 100, 101, eot]]
    with pytest.raises(ValueError, match="end-of-text"):
        insert_corners(torch.tensor([[9, 5, 3]]), eot, [100])


def test_corner_tokenizer_truncates_and_counts():
    import open_clip

    base = open_clip.get_tokenizer("ViT-B-32")
    tok = CornerTokenizer(base, context_length=16, num_corners=2, base_vocab=49408)
    short = tok(["a red circle"])[0]
    n = len(base.encode("a red circle"))
    assert short[:1].item() == base.sot_token_id
    assert short[n + 1:n + 4].tolist() == [49408, 49409, base.eot_token_id]
    long = tok([" ".join(["red circle"] * 30)])[0]
    assert long.shape == (16,) and long[-3:].tolist() == [49408, 49409, base.eot_token_id]
    assert tok.count_tokens(["a red circle"]) == [n + 4]
    assert tok.truncation_rule == "keep_first_corners_eot_last"


@pytest.fixture(scope="module")
def corner_model():
    import open_clip

    from lipeval.models import register_configs

    register_configs()
    cfg = copy.deepcopy(open_clip.get_model_config("lipeval-tiny-rn-ctx128")["text_cfg"])
    cfg["vocab_size"] += 2
    cfg["layers"] = 2
    torch.manual_seed(0)
    model = open_clip.create_model("lipeval-tiny-rn-ctx128", text_cfg=cfg)
    base = open_clip.get_tokenizer("lipeval-tiny-rn-ctx128")
    model = corner_text.convert(model, 2, base.eot_token_id).eval()
    return model, CornerTokenizer(base, 128, 2, 49408)


def test_eot_feature_never_sees_the_corner_embeddings(corner_model):
    model, tok = corner_model
    text = tok(["a red circle in the top left. the background is grass", "two shapes"])
    with torch.no_grad():
        before_all = model.encode_text_all(text)
        before = model.encode_text(text)
        saved = model.token_embedding.weight[49408:].clone()
        model.token_embedding.weight[49408:] += 3.0
        after_all = model.encode_text_all(text)
        after = model.encode_text(text)
        model.token_embedding.weight[49408:] = saved
    assert before_all.shape == (2, 3, 128)
    assert torch.equal(before, before_all[:, 0])
    assert torch.allclose(before, after, atol=1e-6)  # EOT: unchanged by the corner tokens
    assert not torch.allclose(before_all[:, 1:], after_all[:, 1:])  # the corner features change


def test_corner_features_do_not_depend_on_each_other_or_on_padding(corner_model):
    model, tok = corner_model
    text = tok(["a small blue star", "a large green ring in the centre"])
    with torch.no_grad():
        full = model.encode_text_all(text)
        saved = model.token_embedding.weight[49408].clone()
        model.token_embedding.weight[49408] += 3.0  # move corner 0 only
        moved = model.encode_text_all(text)
        model.token_embedding.weight[49408] = saved
        states = model._text_tokens(text)  # the whole context length, padding included
        eot = model.eot_positions(text)
        untrimmed = torch.stack([states[torch.arange(2), eot - i] for i in range(3)], 1) @ model.text_projection
    # features are [EOT, corner at eot-1 (C1), corner at eot-2 (C0)]
    assert torch.allclose(full[:, :2], moved[:, :2], atol=1e-6)
    assert not torch.allclose(full[:, 2], moved[:, 2])
    assert text.shape[1] == 128 and torch.allclose(full, untrimmed, atol=1e-5)  # trimming the padding is exact
