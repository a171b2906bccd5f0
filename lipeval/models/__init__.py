"""Model adapters (open_clip factory, checkpoints, tiny configs that ship with lipeval)."""
from pathlib import Path

CONFIG_DIR = Path(__file__).parent / "configs"  # the tiny architectures' open_clip configs
