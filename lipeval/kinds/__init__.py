"""The kind registry: every task kind by name, each declared by its package (`lipeval/kinds/<name>/`).

Torch-free: the declarations hold names, metric lists and typed options only, so listing and validating
tasks stays fast. The contract every kind honours is `lipeval/kinds/contract.py`; adding a kind is one
package and one line below.
"""
from __future__ import annotations

import difflib
from typing import Any, Mapping

from lipeval.errors import ConfigError
from lipeval.kinds import caption_selection, image_retrieval, linear_probe, retrieval, zeroshot
from lipeval.kinds.contract import KindOptions, KindResult, KindSpec

KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    retrieval.SPEC,
    zeroshot.SPEC,
    linear_probe.SPEC,
    caption_selection.SPEC,
    image_retrieval.SPEC,
)}

__all__ = ["KINDS", "KindOptions", "KindResult", "KindSpec", "get_kind", "kind_for_records", "check_overrides"]


def get_kind(name: str) -> KindSpec:
    """The kind registered as `name`; a ConfigError with a did-you-mean otherwise."""
    if name in KINDS:
        return KINDS[name]
    close = difflib.get_close_matches(name, list(KINDS), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ConfigError(f"unknown kind {name!r} ({hint}known: {', '.join(KINDS)})")


def kind_for_records(records: object) -> KindSpec:
    """The kind that scores these records (ad-hoc tasks learn their kind from what their reader returns)."""
    name = type(records).__name__
    for spec in KINDS.values():
        if spec.records == name:
            return spec
    raise ConfigError(f"no kind scores {name} records")


def check_overrides(overrides: Mapping[str, Any]) -> None:
    """Every `--protocol KEY=VALUE` must name an option of some kind and be a valid value for each kind that
    has that option (a run may mix kinds: an override applies to the kinds that know it)."""
    for key, value in overrides.items():
        owners = [spec for spec in KINDS.values() if key in spec.options.keys()]
        if not owners:
            known = sorted({k for spec in KINDS.values() for k in spec.options.keys()})
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"--protocol {key}={value}: no task kind has this option (known: {', '.join(known)})"
                              f"{hint}")
        for spec in owners:
            spec.options.parse({key: value}, "--protocol")
