"""Helpers that write tiny dataset fixtures in the official on-disk formats.

They are handed to tests through the `fx` fixture (not imported by module name, so this file
never clashes with another folder's conftest).
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image


def write_image(path: Path, color=(255, 0, 0), size: int = 8) -> Path:
    """An 8x8 solid-colour image; the format follows the file extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}[path.suffix.lower()]
    Image.new("RGB", (size, size), color).save(path, format=fmt)
    return path


def write_json(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return path


def coco_captions_json(images: list[tuple[int, str]], annotations: list[tuple[int, int, str]]) -> dict:
    """A COCO-captions object with the real key structure.

    images: (id, file_name) in list order; annotations: (ann id, image id, caption) in list order.
    """
    return {
        "info": {"description": "COCO 2014 Dataset", "version": "1.0", "year": 2014},
        "licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1, "name": "BY-NC-SA"}],
        "images": [
            {"license": 1, "file_name": f, "coco_url": "", "height": 8, "width": 8, "date_captured": "", "id": i}
            for i, f in images
        ],
        "annotations": [{"image_id": im, "id": a, "caption": c} for a, im, c in annotations],
    }


@pytest.fixture
def fx() -> SimpleNamespace:
    return SimpleNamespace(write_image=write_image, write_json=write_json, coco_captions_json=coco_captions_json)
