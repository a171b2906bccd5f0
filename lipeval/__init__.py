"""lipeval: one harness for the zero-shot benchmarks of CLIP-style language-image models."""

__version__ = "0.1.0"
