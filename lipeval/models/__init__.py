"""Model adapters (open_clip factory, checkpoints, tiny configs that ship with lipeval).

This file stays light (no torch, no open_clip at import): the trainer and the model cards use
CONFIG_DIR and `register_configs` without loading the adapter.
"""
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"  # the tiny architectures' open_clip configs

_registered = False


def register_configs() -> None:
    """Make the tiny architectures that ship with lipeval known to open_clip (once)."""
    global _registered
    if not _registered:
        import open_clip

        open_clip.add_model_config(CONFIG_DIR)
        _registered = True
