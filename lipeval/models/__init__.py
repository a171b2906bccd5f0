"""Model adapters (open_clip factory, checkpoints, tiny configs that ship with lipeval)."""
