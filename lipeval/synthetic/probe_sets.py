"""Two more class sets of the synthetic world, for the linear probe (registered in `FORMAT_WRITERS`):

    folder/count/{train,test}/<1..4>/<id>.png    how many objects the scene holds (an analogue of CLEVR
                                                 counts), ImageFolder layout with classnames.txt, templates.txt
    wds/shapes_present/{train,test}/0.tar        which of the 8 shapes occur in the scene: multi-label, in
                                                 clip-benchmark's webdataset layout (`<key>.png` + `<key>.npy`,
                                                 a 0/1 vector over classnames.txt), with nshards.txt,
                                                 classnames.txt, zeroshot_classification_templates.txt and
                                                 dataset_type.txt = "multilabel"

Both hold exactly the scenes of the other class-folder sets (every test scene, the first K train scenes)
and reuse their PNG bytes. The tar members carry fixed metadata (mtime 0, owner 0, mode 644), so the same
scenes give the same bytes.
"""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np

from lipeval.synthetic import writers
from lipeval.synthetic.world import MAX_OBJECTS, SHAPES, Scene

COUNT_WORDS = {1: "one shape", 2: "two shapes", 3: "three shapes", 4: "four shapes"}
COUNT_TEMPLATES = ["a picture of {c}.", "{c} on a background.", "a photo with {c} in it.", "a drawing of {c}."]
PRESENT_TEMPLATES = ["a picture with a {c}.", "a {c} on a background.", "a photo of a {c}."]


def _folder_png(suite: Path, split: str, scene: Scene) -> Path:
    """The scene's PNG in the shape class set (written before the format writers run)."""
    return suite / "folder" / "shape" / split / scene.main.shape / f"{scene.id:06d}.png"


def _tar_member(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(data), 0, 0o644, 0, 0, "", ""
    tf.addfile(info, io.BytesIO(data))


def _npy(vector: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, vector, allow_pickle=False)
    return buf.getvalue()


def write_probe_sets(suite: Path, scenes_by_split: dict[str, list[Scene]], image_size: int, seed: int) -> None:
    """Write folder/count and wds/shapes_present (see the module docstring)."""
    counts = list(range(1, MAX_OBJECTS + 1))
    writers.write_class_set(suite / "folder" / "count", [str(n) for n in counts], [COUNT_WORDS[n] for n in counts],
                            COUNT_TEMPLATES)
    wds = suite / "wds" / "shapes_present"
    wds.mkdir(parents=True, exist_ok=True)
    (wds / "classnames.txt").write_text("".join(s + "\n" for s in SHAPES), encoding="utf-8")
    (wds / "zeroshot_classification_templates.txt").write_text("".join(t + "\n" for t in PRESENT_TEMPLATES),
                                                               encoding="utf-8")
    (wds / "dataset_type.txt").write_text("multilabel\n", encoding="utf-8")
    for split, scenes in scenes_by_split.items():
        (wds / split).mkdir(parents=True, exist_ok=True)
        (wds / split / "nshards.txt").write_text("1\n", encoding="utf-8")
        with tarfile.open(wds / split / "0.tar", "w", format=tarfile.USTAR_FORMAT) as tf:
            for scene in scenes:
                png_path = _folder_png(suite, split, scene)
                if not png_path.is_file():
                    continue  # not one of the class-folder scenes of this split
                png = png_path.read_bytes()
                writers.write_bytes(suite / "folder" / "count" / split / str(len(scene.objects))
                                    / f"{scene.id:06d}.png", png)
                present = np.zeros(len(SHAPES), dtype=np.int64)
                for obj in scene.objects:
                    present[SHAPES.index(obj.shape)] = 1
                key = f"{scene.id:06d}"
                _tar_member(tf, f"{key}.png", png)
                _tar_member(tf, f"{key}.npy", _npy(present))
