"""Every registered member honours its registry's contract: each kind (lipeval/kinds/contract.py), each reader
(lipeval/datasets), and each implementation of the model adapter and embedder protocols."""
from __future__ import annotations

import dataclasses
import inspect
import json
import math
import subprocess
import sys

import pytest

from lipeval.errors import ConfigError
from lipeval.kinds import KINDS, check_overrides, kind_for_records
from lipeval.kinds.contract import Embedder as EmbedderProtocol
from lipeval.kinds.contract import KindOptions, KindResult
from lipeval.models.contract import ModelAdapter
from lipeval.registry import load_registry

SYNTHETIC_TASK_OF_KIND = {
    "retrieval": "synthetic/long_dci",
    "zeroshot_classification": "synthetic/zeroshot_shape",
    "linear_probe": "synthetic/linear_probe_shape",
    "caption_selection": "synthetic/aro_vg_relation",
    "image_retrieval": "synthetic/gpr1200",
}


def test_every_kind_has_a_synthetic_task_here():
    assert set(SYNTHETIC_TASK_OF_KIND) == set(KINDS)


@pytest.mark.parametrize("name", list(KINDS))
def test_kind_declaration(name):
    spec = KINDS[name]
    assert spec.name == name and spec.metrics and spec.main_metric in spec.metrics
    assert not spec.main_metric_multilabel or spec.main_metric_multilabel in spec.metrics
    opts = spec.options
    assert issubclass(opts, KindOptions) and dataclasses.is_dataclass(opts) and opts.KIND == name
    assert opts.__dataclass_params__.frozen  # options are values: hashable, never mutated by a kind
    defaults = opts()
    assert list(defaults.record()) == list(opts.keys()) and "tie_policy" in opts.keys()
    # the defaults parse back to themselves, from their JSON form and from command-line strings
    assert opts.parse(json.loads(json.dumps(defaults.record())), "t") == defaults
    as_strings = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in defaults.record().items()}
    assert opts.parse(as_strings, "--protocol") == defaults
    with pytest.raises(ConfigError, match=r"--protocol: option tie_policy=never: expected one of pessimistic"):
        opts.parse({"tie_policy": "never"}, "--protocol")
    with pytest.raises(ConfigError, match=f"{name} has no option 'nonsense'"):
        opts.parse({"nonsense": 1}, "t")
    assert all(expected for _, _, expected in opts.describe())
    module, func = spec.evaluate.split(":")
    assert callable(getattr(__import__(module, fromlist=[func]), func))


def test_overrides_belong_to_some_kind_and_parse_for_each():
    check_overrides({"tie_policy": "optimistic", "lambda": "0.5", "leave_one_out": "yes"})
    with pytest.raises(ConfigError, match="no task kind has this option"):
        check_overrides({"tie": "optimistic"})
    with pytest.raises(ConfigError, match="option leave_one_out=maybe"):
        check_overrides({"leave_one_out": "maybe"})


@pytest.mark.parametrize("name", list(KINDS))
def test_kind_evaluates_its_records_into_a_kind_result(name, synth_root, fake):
    from lipeval.datasets import get_reader

    task = load_registry()[0][SYNTHETIC_TASK_OF_KIND[name]]
    data = get_reader(task.reader)(synth_root / task.folder, **task.args)
    spec = KINDS[name]
    assert kind_for_records(data) is spec
    result = spec.run(data, fake.embedder(), spec.options.parse(task.protocol, task.source))
    assert isinstance(result, KindResult)
    assert task.main_metric in result.metrics and set(result.chance) <= set(result.metrics)
    assert all(math.isnan(v) or 0.0 <= v <= 1.0 for v in result.metrics.values())
    assert result.n_images > 0 and result.n_texts >= 0
    json.dumps({"info": result.info, "timing": result.timing, "artifacts": result.artifacts}, allow_nan=True)
    assert not {"n_images", "n_texts", "chance", "timing", "artifacts"} & set(result.info)  # one place each


def test_every_reader_is_importable_and_takes_the_task_folder():
    from lipeval.datasets import READERS, get_reader

    for name in READERS:
        reader = get_reader(name)
        first = next(iter(inspect.signature(reader).parameters))
        assert callable(reader) and first == "root", name


def test_listing_tasks_imports_no_torch():
    code = ("import sys; from lipeval.registry import load_registry; from lipeval.kinds import KINDS; "
            "load_registry(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _members(protocol) -> set[str]:
    names = {n for n in vars(protocol) if not n.startswith("_")}
    return (names | set(getattr(protocol, "__annotations__", {}))) - {"__annotations__"}


def test_model_adapters_offer_everything_the_contract_lists(fake):
    from lipeval.models.adapter import load_model
    from lipeval.models.card import DeferredAdapter, card_of

    real = load_model("open_clip:lipeval-tiny-rn")
    deferred = DeferredAdapter(card_of(real), lambda: real, "cpu", "fp32")
    for adapter in (real, deferred, fake.Model()):
        missing = [m for m in _members(ModelAdapter) if not hasattr(adapter, m)]
        assert not missing, (type(adapter).__name__, missing)
    assert deferred.loaded is not None  # asking for the transform loaded the model


def test_the_embedder_offers_everything_kinds_may_use(fake):
    emb = fake.embedder()
    missing = [m for m in _members(EmbedderProtocol) if not hasattr(emb, m)]
    assert not missing
    assert set(emb.text_stats(["a b c"])) == {"n_texts", "n_truncated", "mean_tokens", "max_tokens",
                                               "context_length", "truncation"}


def test_every_package_folder_is_installed():
    """pyproject.toml lists packages explicitly (tasks/ and train/ are mapped into lipeval): a new kind's package
    missing there would vanish from a non-editable install."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(root).parts) for p in (root / "lipeval").rglob("__init__.py")}
    assert on_disk <= listed, sorted(on_disk - listed)


def test_a_model_family_is_one_module_and_one_registry_line(tmp_path, monkeypatch, synth_root, fake):
    """A family registered under a SPEC prefix is loaded by its own loader through `lipeval run`, and its
    adapter (here the tests' fake model) is all the runner, the cache and the kinds need."""
    import types

    from lipeval.models import families
    from lipeval.registry import resolve
    from lipeval.runner import Runner, RunOptions

    module = types.ModuleType("toy_family")  # the new family's module: its loader
    module.load = lambda spec, device, precision, seed, trust_checkpoint: fake.Model(
        fingerprint="toy:" + spec.partition(":")[2])
    monkeypatch.setitem(sys.modules, "toy_family", module)
    monkeypatch.setitem(families.FAMILIES, "toy", "toy_family:load")  # and its registry line
    assert families.family_of("toy:abc") == "toy" and families.family_of("local-dir:x") == "open_clip"
    opts = RunOptions(model="toy:abc", data_root=synth_root, out=tmp_path / "out", batch_size=64)
    (rec,) = Runner(opts, log=lambda *_: None).run(resolve(["synthetic/zeroshot_shape"]))
    assert rec["status"] == "ok", rec["error"]
    assert rec["model"]["fingerprint"] == "toy:abc" and rec["info"]["n_classes"] > 1


def test_every_family_loader_is_importable():
    from lipeval.models.families import FAMILIES

    for name, target in FAMILIES.items():
        module, func = target.split(":")
        params = list(inspect.signature(getattr(__import__(module, fromlist=[func]), func)).parameters)
        assert params and {"device", "precision", "seed", "trust_checkpoint"} <= set(params[1:]), name
