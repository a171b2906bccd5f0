"""The record for image-to-image retrieval (GPR1200): images with a category each; same category = relevant."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lipeval.datasets.records import ImageSet, strings_digest
from lipeval.errors import DataError


@dataclass
class ImageRetrievalData:
    """`categories[i]` is the integer category of image i; every image queries all images."""

    images: ImageSet
    categories: list[int]
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.categories) != len(self.images):
            raise DataError(f"{self.source}: {len(self.images)} images but {len(self.categories)} categories")
        if not self.categories:
            raise DataError(f"{self.source}: no images")

    def fingerprint(self) -> str:
        cats = np.asarray(self.categories, dtype=np.int64)
        return strings_digest([self.images.fingerprint(), hashlib.sha256(cats.tobytes()).hexdigest()])

    def limit(self, n: int) -> "ImageRetrievalData":
        return ImageRetrievalData(self.images.subset(n), self.categories[:n], self.source)
