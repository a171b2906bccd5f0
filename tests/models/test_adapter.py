
import pytest
import torch

from lipeval.errors import ConfigError
from lipeval.models.adapter import load_model
from lipeval.models.spec import parse_spec

ARCH = "lipeval-tiny-rn"


@pytest.fixture(scope="module")
def tiny():
    return load_model(f"open_clip:{ARCH}", seed=3)


def test_parse_spec_forms(tmp_path):
    assert parse_spec("open_clip:ViT-B-32/openai").model_name == "ViT-B-32"
    assert parse_spec("open_clip:ViT-B-32/openai").pretrained == "openai"
    assert parse_spec("open_clip:ViT-B-32").pretrained is None
    assert parse_spec("open_clip:RN50/some/dir/ckpt.pt").pretrained == "some/dir/ckpt.pt"
    assert parse_spec("hf-hub:org/name").model_name == "hf-hub:org/name"
    assert parse_spec("open_clip:local-dir:/x").model_name == "local-dir:/x"
    with pytest.raises(ConfigError, match="no open_clip_config.json"):
        parse_spec(str(tmp_path))
    with pytest.raises(ConfigError, match="no such file"):
        parse_spec(str(tmp_path / "missing.safetensors"))


def test_random_init_is_seeded_and_records_tokenisation(tiny):
    again = load_model(f"open_clip:{ARCH}", seed=3)
    other = load_model(f"open_clip:{ARCH}", seed=4)
    assert tiny.fingerprint == again.fingerprint != other.fingerprint
    d = tiny.describe()
    assert d["context_length"] == 77 and d["truncation"] == "keep_first_eot_last"
    emb = tiny.encode_texts(["a red circle", "a blue square"])
    assert emb.shape == (2, 128) and torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)
    img = tiny.encode_images(torch.zeros(2, 3, 64, 64))
    assert img.shape == (2, 128)


def test_truncation_keeps_first_tokens_and_ends_with_eot(tiny):
    long_text = " ".join(["red circle"] * 60)
    n = tiny.token_counts([long_text])[0]
    assert n > 77
    tokens = tiny.tokenizer([long_text])[0]
    eot = tiny.tokenizer.eot_token_id
    assert tokens[-1].item() == eot and (tokens == eot).sum() == 1
    full = [tiny.tokenizer.sot_token_id] + tiny.tokenizer.encode(long_text)
    assert tokens[:76].tolist() == full[:76]


def test_longer_context_config():
    a = load_model("open_clip:lipeval-tiny-rn-ctx128")
    assert a.context_length == 128
    assert a.tokenizer(["x"]).shape == (1, 128)


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_checkpoint_round_trip_in_every_spec_form(tmp_path, tiny, fmt, save_local_dir):
    folder = tmp_path / "ckpt"
    path = save_local_dir(folder, tiny, fmt)
    for spec in (str(folder), f"local-dir:{folder}", str(path), f"open_clip:{ARCH}/{path}"):
        a = load_model(spec, seed=99)  # the seed must not matter once weights are loaded
        assert a.fingerprint == tiny.fingerprint, spec


class _Evil:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_pickle_checkpoint_is_refused_unless_trusted(tmp_path, tiny):
    path = tmp_path / "model.pt"
    torch.save({"state_dict": tiny.model.state_dict(), "extra": _Evil()}, path)
    with pytest.raises(ConfigError, match="--trust-checkpoint"):
        load_model(f"open_clip:{ARCH}/{path}")
    assert load_model(f"open_clip:{ARCH}/{path}", trust_checkpoint=True).fingerprint == tiny.fingerprint


def test_checkpoint_of_another_architecture_names_file_and_keys(tmp_path, tiny, save_local_dir):
    path = save_local_dir(tmp_path / "c", tiny)
    with pytest.raises(ConfigError, match=r"does not fit architecture lipeval-tiny-vit.*(Missing|Unexpected|size)"):
        load_model(f"open_clip:lipeval-tiny-vit/{path}")


def test_corrupt_checkpoint_and_unknown_names(tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="broken.safetensors"):
        load_model(f"open_clip:{ARCH}/{bad}")
    with pytest.raises(ConfigError, match="did you mean lipeval-tiny-rn"):
        load_model("open_clip:lipeval-tiny-rm")
    with pytest.raises(ConfigError, match="neither a pretrained tag"):
        load_model(f"open_clip:{ARCH}/nonexistent_tag")
    with pytest.raises(ConfigError, match="--precision"):
        load_model(f"open_clip:{ARCH}", precision="fp8")


def test_strict_fp32_turns_tf32_off_and_restores_the_settings():
    from lipeval.models.adapter import strict_fp32

    before = torch.get_float32_matmul_precision(), torch.backends.cudnn.allow_tf32
    torch.set_float32_matmul_precision("high")
    torch.backends.cudnn.allow_tf32 = True
    try:
        with strict_fp32():
            assert torch.get_float32_matmul_precision() == "highest" and not torch.backends.cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "high" and torch.backends.cudnn.allow_tf32
    finally:
        torch.set_float32_matmul_precision(before[0])
        torch.backends.cudnn.allow_tf32 = before[1]


def test_same_model_makes_local_paths_absolute(tmp_path, monkeypatch):
    from lipeval.models.spec import same_model

    folder = tmp_path / "runs" / "clip"
    folder.mkdir(parents=True)
    (folder / "open_clip_config.json").write_text("{}")
    (folder / "ckpt.safetensors").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert same_model("runs/clip", str(folder)) and same_model("runs/clip", f"local-dir:{folder}")
    assert same_model("runs/clip/ckpt.safetensors", str(folder / "ckpt.safetensors"))
    assert same_model(f"open_clip:{ARCH}/runs/clip/ckpt.safetensors", f"open_clip:{ARCH}/{folder}/ckpt.safetensors")
    assert not same_model("runs/clip", str(folder / "ckpt.safetensors"))  # the folder's weights vs one file
    assert not same_model(f"open_clip:{ARCH}", "open_clip:lipeval-tiny-vit")
    assert same_model("open_clip:ViT-B-32/openai", "open_clip:ViT-B-32/openai")
    assert not same_model("no/such/path", str(tmp_path / "no/such/path"))  # unparsable: compared as typed
