"""Parse a model SPEC string into what open_clip's factory needs (no torch import here).

Accepted forms:
  open_clip:ARCH                 random init (seeded)
  open_clip:ARCH/PRETRAINED      a pretrained tag, or a checkpoint file path
  local-dir:PATH                 open_clip's own folder form (open_clip_config.json + weights)
  hf-hub:ORG/NAME                open_clip's hub form (needs the hub cache when offline)
  PATH                           a local-dir folder, or a checkpoint file with an
                                 open_clip_config.json beside it
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lipeval.errors import ConfigError

CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


@dataclass(frozen=True)
class ModelSpec:
    spec: str  # what the user typed
    model_name: str  # first argument of open_clip.create_model
    pretrained: str | None  # a pretrained tag or a checkpoint file

    @property
    def checkpoint_file(self) -> Path | None:
        if self.pretrained and self.pretrained.endswith(CHECKPOINT_SUFFIXES):
            return Path(self.pretrained)
        return None


def parse_spec(spec: str) -> ModelSpec:
    if not spec or not spec.strip():
        raise ConfigError("--model: empty model spec")
    spec = spec.strip()
    if spec.startswith("open_clip:"):
        rest = spec[len("open_clip:"):]
        if rest.startswith(("local-dir:", "hf-hub:")):
            return ModelSpec(spec, rest, None)
        arch, _, pretrained = rest.partition("/")
        if not arch:
            raise ConfigError(f"--model {spec!r}: expected open_clip:ARCH or open_clip:ARCH/PRETRAINED")
        return ModelSpec(spec, arch, pretrained or None)
    if spec.startswith(("local-dir:", "hf-hub:")):
        return ModelSpec(spec, spec, None)
    path = Path(spec)
    if path.is_dir():
        if (path / "open_clip_config.json").is_file():
            return ModelSpec(spec, f"local-dir:{path}", None)
        raise ConfigError(f"--model {spec}: folder has no open_clip_config.json (expected open_clip's local-dir layout)")
    if path.is_file():
        config = path.parent / "open_clip_config.json"
        if not config.is_file():
            raise ConfigError(
                f"--model {spec}: a bare checkpoint file needs an open_clip_config.json beside it; "
                f"otherwise name the architecture: --model open_clip:ARCH/{spec}"
            )
        return ModelSpec(spec, f"local-dir:{path.parent}", str(path))
    if spec.endswith(CHECKPOINT_SUFFIXES) or "/" in spec:
        raise ConfigError(f"--model {spec}: no such file or folder")
    raise ConfigError(
        f"--model {spec!r}: unknown form; use open_clip:ARCH[/PRETRAINED], local-dir:PATH, hf-hub:ORG/NAME or a path"
    )


def same_model(a: str, b: str) -> bool:
    """Whether two SPEC strings name the same model: equal once local paths are made absolute (so
    `runs/clip` and `/home/me/runs/clip` are one model). A SPEC that does not parse is compared as typed."""
    def canonical(spec: str) -> str:
        try:
            s = parse_spec(spec)
        except ConfigError:
            return spec
        name = s.model_name
        if name.startswith("local-dir:"):
            name = f"local-dir:{Path(name[len('local-dir:'):]).resolve()}"
        pretrained = str(s.checkpoint_file.resolve()) if s.checkpoint_file is not None else s.pretrained
        return f"{name}|{pretrained}"

    return a == b or canonical(a) == canonical(b)
