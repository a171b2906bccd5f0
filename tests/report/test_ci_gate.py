"""The CI regression gate: the deterministic tiny training run matches the committed reference,
and the same comparison fails once one number moves. About a minute on a 2-core CPU; deselect
with `-m "not gate"` while iterating."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lipeval.cli import main

REPO = Path(__file__).resolve().parents[2]
GATE = REPO / ".ci" / "regression_gate.py"
REFERENCE = REPO / "results" / "ci_reference"


@pytest.mark.gate
def test_gate_matches_the_reference_and_catches_a_change(tmp_path, capsys):
    assert any(REFERENCE.glob("*.json")), f"no reference in {REFERENCE}: run python {GATE.relative_to(REPO)} --refresh"
    work = tmp_path / "work"
    run = subprocess.run([sys.executable, str(GATE), "--work", str(work)], capture_output=True, text=True,
                         timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=REPO)
    assert run.returncode == 0, (
        "the gate's numbers differ from results/ci_reference; if the change is intended, refresh the reference "
        "(see results/ci_reference/README.md)\n" + run.stdout[-6000:] + run.stderr[-3000:])
    assert "compare: PASS" in run.stdout

    # one hit more or less on one task is enough to fail the two-sided, zero-tolerance comparison
    moved = tmp_path / "moved"
    shutil.copytree(work / "results", moved)
    f = moved / "synthetic__retrieval.json"
    rec = json.loads(f.read_text())
    n = rec["dataset"]["n_images"]
    rec["metrics"][rec["main_metric"]] -= 0.5 / n
    f.write_text(json.dumps(rec))
    capsys.readouterr()
    assert main(["compare", str(REFERENCE), str(moved), "--two-sided", "--tolerance", "0", "--main-only"]) == 1
    assert "synthetic/retrieval: mean_R@1 fell by" in capsys.readouterr().out
