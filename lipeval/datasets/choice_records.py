"""Records for multiple-choice caption selection (ARO, SugarCrepe) and the cropped-image set ARO's VG sets use.

A case is one image with L caption options, one of them true. Several cases may share an image (COCO-Order:
the five captions of an image), so `images` holds each distinct image once and `case_image` links each case
to it; the image embeddings are then shared with any other task that reads the same image set.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from lipeval.datasets.records import ImageSet, strings_digest, files_fingerprint, open_rgb
from lipeval.errors import DataError


class CroppedImages(ImageSet):
    """Image files, each cropped to a box `(x, y, w, h)` in pixels before the model transform.

    The crop is PIL's `Image.crop((x, y, x + w, y + h))` on the RGB image, as ARO's VG loaders do (a box that
    reaches past the border is padded with black by PIL). The id of an item is `relpath#x,y,w,h`.
    """

    def __init__(self, root: Path | str, relpaths: Sequence[str], boxes: Sequence[tuple[float, float, float, float]]):
        if len(relpaths) != len(boxes):
            raise ValueError(f"{len(relpaths)} image paths but {len(boxes)} boxes")
        self.root = Path(root)
        self.relpaths = list(relpaths)
        self.boxes = [tuple(b) for b in boxes]
        super().__init__([f"{r}#{','.join(_num(v) for v in b)}" for r, b in zip(self.relpaths, self.boxes)])

    def path(self, i: int) -> Path:
        return self.root / self.relpaths[i]

    def load(self, i: int):
        x, y, w, h = self.boxes[i]
        return open_rgb(self.path(i)).crop((x, y, x + w, y + h))

    def check_exist(self, what: str) -> None:
        """Raise DataError listing the first missing files (`what` names the annotation file)."""
        missing = sorted({r for r in self.relpaths if not (self.root / r).is_file()})
        if missing:
            show = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise DataError(f"{len(missing)} image file(s) listed in {what} are missing under {self.root}: {show}")

    def compute_fingerprint(self) -> str:
        """The distinct image files (`files_fingerprint`) and every item's crop box."""
        distinct = dict.fromkeys(self.relpaths)
        return files_fingerprint([(r, self.root / r) for r in distinct], extra=["crop", *self.ids])

    def subset(self, n: int) -> "CroppedImages":
        return CroppedImages(self.root, self.relpaths[:n], self.boxes[:n])


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


@dataclass
class ChoiceData:
    """Caption-selection cases: image `case_image[c]`, options `options[c]`, the true one at `answer[c]`.

    * `groups`: optional per-case label (ARO: the relation, or the attribute pair) for per-group accuracy;
      `group_label` names it in metric keys (`relation/<name>`), `macro_min_items` and `macro_exclude` say
      which groups the macro mean keeps (VG-Attribution: >= 25 cases; VG-Relation: no symmetric relation).
    * `reference_rule`: how the reference decides a case, reproduced under `tie_policy=reference`:
      `argmax` (ARO: np.argmax over the options, first maximum wins) or `strict` (SugarCrepe: true > negative).
    * `extra`: facts for the result's `info` (where perturbations came from ...); `artifacts`: files to write
      next to the result, name -> text (the generated Order perturbations, for reuse).
    """

    images: ImageSet
    case_image: list[int]
    options: list[list[str]]
    answer: list[int]
    groups: list[str] | None = None
    group_label: str = "group"
    macro_min_items: int = 1
    macro_exclude: frozenset[str] = frozenset()
    reference_rule: str = "argmax"
    source: str = ""
    extra: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.case_image)
        if len(self.options) != n or len(self.answer) != n:
            raise DataError(f"{self.source}: {n} cases but {len(self.options)} option lists and "
                            f"{len(self.answer)} answers")
        if self.groups is not None and len(self.groups) != n:
            raise DataError(f"{self.source}: {n} cases but {len(self.groups)} group labels")
        if n == 0:
            raise DataError(f"{self.source}: no test cases")
        n_opt = len(self.options[0])
        n_img = len(self.images)
        for c in range(n):
            opts = self.options[c]
            if len(opts) != n_opt:
                raise DataError(f"{self.source}: case {c} has {len(opts)} caption options, the first has {n_opt}")
            if not 0 <= self.answer[c] < n_opt:
                raise DataError(f"{self.source}: case {c}: true option {self.answer[c]} outside 0..{n_opt - 1}")
            if not 0 <= self.case_image[c] < n_img:
                raise DataError(f"{self.source}: case {c} points at image {self.case_image[c]}, "
                                f"but there are {n_img} images")
        if n_opt < 2:
            raise DataError(f"{self.source}: every case needs at least 2 caption options, got {n_opt}")
        if self.reference_rule not in ("argmax", "strict"):
            raise ValueError(f"reference_rule must be 'argmax' or 'strict', got {self.reference_rule!r}")

    @property
    def n_options(self) -> int:
        return len(self.options[0])

    def fingerprint(self) -> str:
        """Images, options, answers, links and groups: everything the metrics depend on."""
        parts = [self.images.fingerprint(), ",".join(map(str, self.case_image)), ",".join(map(str, self.answer))]
        for opts in self.options:
            parts.extend(opts)
        if self.groups is not None:
            parts.extend(self.groups)
        return strings_digest(parts)

    def limit(self, n: int) -> "ChoiceData":
        """The first n images and their cases."""
        keep = [c for c, i in enumerate(self.case_image) if i < n]
        return ChoiceData(
            self.images.subset(n), [self.case_image[c] for c in keep], [self.options[c] for c in keep],
            [self.answer[c] for c in keep], None if self.groups is None else [self.groups[c] for c in keep],
            self.group_label, self.macro_min_items, self.macro_exclude, self.reference_rule, self.source,
            dict(self.extra), {},  # a limited run writes no reusable artifact
        )
