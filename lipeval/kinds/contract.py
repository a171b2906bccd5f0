"""The kind contract: what a task kind declares, what it may ask of the model, and what it returns.

A kind turns a reader's records plus embeddings into metrics and never knows which model produced them.
Adding one is a package `lipeval/kinds/<name>/` and one line in `lipeval/kinds/__init__.py`:

* `<name>/__init__.py` (torch-free, so listing and validating tasks stays fast) declares the kind: a
  `KindSpec` with its metric names, the records class its reader returns and its **options**, a frozen
  dataclass subclassing `KindOptions` whose fields are every choice that changes a number, each with its
  default (the correct definition) and what values it takes;
* `<name>/evaluate.py` holds `evaluate(data, embedder, options) -> KindResult`. It uses the model only
  through the `Embedder` protocol below.

The runner builds the result record (`lipeval/results.py`) from the `KindResult` without knowing any kind's
keys. This module imports no torch (the protocol's tensor types are only named for the type checker).
"""
from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Protocol, Sequence

from lipeval.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from lipeval.datasets.records import ImageSet

TIE_POLICIES = ("pessimistic", "optimistic", "reference")  # lipeval.metrics; see docs/protocols.md §A.2

# ---------------------------------------------------------------------------------------------------------
# what a kind may ask of the model
# ---------------------------------------------------------------------------------------------------------

# Image feature kinds a kind may ask for. "embed": the L2-normalised joint embedding, (N, D). "pre_proj": the
# image tower's feature before its final projection, fp32, not normalised, (N, D') (the linear probe's
# default). Further kinds (dense patch features, one embedding per branch of a multi-branch tower) join this
# list with the shape they return; the first axis is always the image.
IMAGE_FEATURES = ("embed", "pre_proj")


class Embedder(Protocol):
    """Everything a kind may use of a model: cached embeddings and the tokenizer's facts.

    `lipeval.embed.Embedder` implements it over a model adapter (`lipeval.models.contract.ModelAdapter`)
    and the embedding cache; tests use `tests/conftest.py`'s fake model behind that same class.
    """

    @property
    def device(self) -> str:
        """Where a kind may run its own computation (the linear probe's fit): "cpu", "cuda", "cuda:1"."""
        ...

    def images(self, images: ImageSet, features: str = "embed") -> torch.Tensor:
        """(N, ...) features of every image of the set, in order (one of IMAGE_FEATURES)."""
        ...

    def texts(self, texts: list[str], preprocessing: str = "none") -> torch.Tensor:
        """(N, D) L2-normalised embeddings of the strings, in order. `preprocessing` names what the caller
        did to the strings (it keys the cache and says how they were made; the strings are hashed too)."""
        ...

    def text_stats(self, texts: list[str]) -> dict[str, Any]:
        """How much of the texts the model sees: n_texts, n_truncated, mean_tokens, max_tokens (None where
        the tokenizer cannot count), context_length and the truncation rule."""
        ...

    def text_identity(self, texts: list[str]) -> np.ndarray:
        """(N,) for each text, the index of the first text the model cannot tell from it (the same token ids
        after truncation)."""
        ...


# ---------------------------------------------------------------------------------------------------------
# options: every choice that changes a number, typed
# ---------------------------------------------------------------------------------------------------------

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def option(default: Any, *, choices: Sequence[Any] | None = None, check: Callable[[Any], bool] | None = None,
           expected: str = "", parse: Callable[[Any], Any] | None = None, key: str | None = None) -> Any:
    """A field of a `KindOptions` dataclass.

    `choices`: the allowed values; else `check` (a predicate) with `expected` saying in words what it
    accepts. `parse` turns a raw value (a YAML value, or a string from `--protocol`) into the typed one when
    the field's annotation (str, int, float, bool) is not enough. `key`: the option's name in task files,
    on the command line and in records, when it is not a Python identifier (`lambda`).
    """
    meta = {"choices": tuple(choices) if choices is not None else None, "check": check, "expected": expected,
            "parse": parse, "key": key}
    return field(default=default, metadata=meta)


def tie_policy_option() -> Any:
    """Every kind's `tie_policy`: how a score tied with the true item counts (docs/protocols.md §A.2)."""
    return option("pessimistic", choices=TIE_POLICIES)


def _as_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(raw)


_PARSERS: dict[str, Callable[[Any], Any]] = {"str": str, "int": int, "float": float, "bool": _as_bool}
_TYPE_WORDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}


@dataclass(frozen=True)
class KindOptions:
    """Base of every kind's options. Subclasses are frozen dataclasses whose fields are made with `option`.

    Values come from three places, in this order: the field defaults, the task file's `protocol:` block,
    and `--protocol KEY=VALUE` (strings). `with_values` types and checks each, with an error that names
    where the value came from, the option, its type and the allowed values. `record()` is what a result's
    `protocol` holds: every option as used, in field order.
    """

    KIND: ClassVar[str] = ""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(_key(f) for f in dataclasses.fields(cls))

    @classmethod
    def parse(cls, values: Mapping[str, Any], source: str) -> KindOptions:
        """The defaults with `values` applied (see `with_values`)."""
        return cls().with_values(values, source)

    def with_values(self, values: Mapping[str, Any], source: str) -> KindOptions:
        """A copy with `values` (option key -> raw value) applied; `source` names where they come from
        ("tasks/long/dci.yaml: protocol", "--protocol"). An unknown key or a bad value is a ConfigError."""
        by_key = {_key(f): f for f in dataclasses.fields(self)}
        hints = typing.get_type_hints(type(self))
        changes = {}
        for key, raw in values.items():
            f = by_key.get(key)
            if f is None:
                close = difflib.get_close_matches(key, list(by_key), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise ConfigError(f"{source}: {self.KIND} has no option {key!r} (its options: "
                                  f"{', '.join(by_key)}){hint}")
            changes[f.name] = _typed(f, hints[f.name], raw, source)
        return dataclasses.replace(self, **changes)

    def record(self) -> dict[str, Any]:
        """Every option as used, keyed as in task files and records, in field order."""
        return {_key(f): getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(key, default, what it accepts) of every option, for `lipeval tasks` and the docs."""
        hints = typing.get_type_hints(cls)
        return [(_key(f), f.default, _expected(f, hints[f.name])) for f in dataclasses.fields(cls)]


def _key(f: dataclasses.Field) -> str:
    return f.metadata.get("key") or f.name


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def _expected(f: dataclasses.Field, hint: Any) -> str:
    meta = f.metadata
    if meta.get("choices") is not None:
        return "one of " + ", ".join(str(c).lower() if isinstance(c, bool) else str(c) for c in meta["choices"])
    if meta.get("expected"):
        return meta["expected"]
    return _TYPE_WORDS.get(_type_name(hint), _type_name(hint))


def _typed(f: dataclasses.Field, hint: Any, raw: Any, source: str) -> Any:
    """`raw` as the option's type, checked; a ConfigError naming the option and what it accepts otherwise."""
    meta = f.metadata
    parse = meta.get("parse") or _PARSERS.get(_type_name(hint), lambda v: v)
    try:
        value = parse(raw)
    except (TypeError, ValueError):
        value = _INVALID
    if value is not _INVALID:
        if meta.get("choices") is not None:
            ok = value in meta["choices"]
        elif meta.get("check") is not None:
            ok = bool(meta["check"](value))
        else:
            ok = True
        if ok:
            return value
    shown = raw if isinstance(raw, str) else repr(raw)
    raise ConfigError(f"{source}: option {_key(f)}={shown}: expected {_expected(f, hint)}")


_INVALID = object()


# ---------------------------------------------------------------------------------------------------------
# the declaration and the result
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindSpec:
    """A kind as the registry knows it (torch-free)."""

    name: str
    evaluate: str  # "module:function" of `evaluate(data, embedder, options) -> KindResult`, imported lazily
    records: str  # the records class its readers return (ad-hoc tasks learn their kind from it)
    metrics: tuple[str, ...]  # every metric it may report (a task's main_metric must be one)
    options: type[KindOptions]
    main_metric: str  # the main metric of an ad-hoc task of this kind
    main_metric_multilabel: str = ""  # ... when its records are multi-label (classification kinds)
    description: str = ""

    def default_main_metric(self, multilabel: bool) -> str:
        return self.main_metric_multilabel if multilabel and self.main_metric_multilabel else self.main_metric

    def run(self, data: Any, embedder: Embedder, options: KindOptions) -> KindResult:
        """Import the kind's implementation and run it."""
        import importlib

        module, func = self.evaluate.split(":")
        result = getattr(importlib.import_module(module), func)(data, embedder, options)
        if not isinstance(result, KindResult):
            raise TypeError(f"kind {self.name}: {self.evaluate} returned {type(result).__name__}, not KindResult")
        return result


@dataclass
class KindResult:
    """What a kind returns; the runner turns it into the result record (`lipeval/results.py`).

    metrics   metric -> value, fractions in [0, 1], NaN where undefined
    chance    metric -> its expected value under a random ranking, where it has a closed form
    n_images  images scored (the record's dataset.n_images and info.n_images)
    n_texts   distinct texts embedded (dataset.n_texts and info.n_texts)
    info      kind-specific counts and choices (classes, templates, text-token statistics ...), JSON-able
    timing    seconds of sub-stages of scoring the kind measures itself (the probe's `fit`)
    artifacts file suffix -> text: files written next to the record, for reuse (listed in info.artifacts)
    items     per-item outputs (one row per query / image / case), keyed by column name; reserved for the
              per-item sidecar, not written to the record
    """

    metrics: dict[str, float]
    chance: dict[str, float]
    n_images: int
    n_texts: int
    info: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    items: dict[str, Sequence[Any]] | None = None
