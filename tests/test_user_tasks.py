"""User task folders (`--include-path`, $LIPEVAL_INCLUDE): task files outside the repository, read with the same
schema and checks as the shipped ones; `include:` of a template file or of a registered task."""
from __future__ import annotations

import json

import pytest

from lipeval.cli import main
from lipeval.errors import ConfigError
from lipeval.registry import load_registry, set_include_paths, validate


@pytest.fixture(autouse=True)
def _no_include_paths(monkeypatch):
    monkeypatch.delenv("LIPEVAL_INCLUDE", raising=False)
    set_include_paths([])
    yield
    set_include_paths([])


def _dci_set(root, n: int):
    """A DCI-format set of n images (the release's layout: splits.json + annotations/ + photos/)."""
    from PIL import Image

    base = root / "densely_captioned_images"
    names = [f"sa_{i}.json" for i in range(n)]
    (base / "annotations").mkdir(parents=True)
    (base / "photos").mkdir()
    (base / "splits.json").write_text(json.dumps({"train": names[:-1], "valid": [], "test": names[-1:]}))
    for i, name in enumerate(names):
        (base / "annotations" / name).write_text(json.dumps({
            "image": f"sa_{i}.jpg", "short_caption": f"A picture number {i}.",
            "extra_caption": f"It shows thing {i}. And more about {i}.", "mask_data": {}, "mask_keys": []}))
        Image.new("RGB", (16, 16), (20 * i, 100, 50)).save(base / "photos" / f"sa_{i}.jpg")


MY_DCI = """\
include: long/dci
name: my_dci
description: my own DCI-format set (5 images)
dataset:
  folder: my_dci
  args: {expected_images: 5}
display: My DCI
"""


def test_a_dci_variant_of_my_own_size_runs_through_the_cli(tmp_path, capsys, monkeypatch):
    tasks_dir, data = tmp_path / "my-tasks", tmp_path / "data"
    tasks_dir.mkdir()
    (tasks_dir / "my_dci.yaml").write_text(MY_DCI)
    _dci_set(data / "my_dci", 5)
    assert main(["tasks", "--include-path", str(tasks_dir), "--json"]) == 0
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)["tasks"]}
    mine = listed["my_dci"]
    assert mine["user"] and mine["kind"] == "retrieval" and mine["reader"] == "dci" and mine["folder"] == "my_dci"
    assert mine["display"] == "My DCI" and mine["family"] == "long_text_retrieval" and mine["groups"] == []
    out = tmp_path / "out"
    rc = main(["run", "--model", "open_clip:lipeval-tiny-rn", "--tasks", "my_dci", "--include-path", str(tasks_dir),
               "--data-root", str(data), "--out", str(out), "--device", "cpu"])
    rec = json.loads((out / "my_dci.json").read_text())
    assert rc == 0 and rec["status"] == "ok", rec["error"]
    # the shipped task's definition: its reader, its long-text preprocessing, its metric; my size
    assert rec["dataset"]["n_images"] == 5 and rec["protocol"]["text_preprocessing"] == "lotlip_split"
    assert rec["protocol"]["reader.expected_images"] == 5 and rec["main_metric"] == "mean_R@1"
    # the same folder through the environment variable
    monkeypatch.setenv("LIPEVAL_INCLUDE", str(tasks_dir))
    assert main(["tasks"]) == 0 and "my_dci *" in capsys.readouterr().out
    # the shipped DCI task still guards the real benchmark's size
    assert "7805" in json.dumps(load_registry()[0]["long/dci"].args)


def test_include_file_defaults_own_keys_win_and_merge(tmp_path):
    (tmp_path / "_base.yaml").write_text(
        "version: 3\nkind: zeroshot_classification\ngroups: [zeroshot]\nmain_metric: acc1\n"
        "dataset: {reader: image_folder, args: {split: test}}\nprotocol: {tie_policy: optimistic}\n")
    (tmp_path / "a.yaml").write_text("include: _base.yaml\nname: a\ndescription: d\n"
                                     "dataset: {folder: x, args: {extra: 1}}\nmain_metric: acc5\n")
    tasks, groups = load_registry(include=[tmp_path])
    a = tasks["a"]
    assert (a.version, a.kind, a.main_metric, a.folder, a.reader) == (3, "zeroshot_classification", "acc5", "x",
                                                                      "image_folder")
    assert a.args == {"extra": 1, "split": "test"} and list(a.args) == ["extra", "split"]  # own keys first
    assert a.protocol == {"tie_policy": "optimistic"} and a.user and "_base" not in tasks
    assert "a" in groups["zeroshot"].members and "a" not in groups["all"].members  # `all`: only if listed


def test_problems_are_found_at_load_time_with_a_did_you_mean(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nversion: 1\nkind: retreival\ndescription: d\ndataset: {folder: f, reader: dci}\n"
        "main_metric: mean_R@1\n")
    (tmp_path / "worse.yaml").write_text(
        "name: worse\nversion: 1\nkind: retrieval\ndescription: d\ndataset: {folder: f, reader: dcii}\n"
        "main_metric: mean_R@1\nprotocol: {tie_polcy: optimistic}\nfamily: long_text\ngroups: [long_retreival]\n")
    (tmp_path / "typo.yaml").write_text("name: typo\nversion: 1\nkind: retrieval\ndescription: d\n"
                                        "dataset: {folder: f, reader: dci}\nmain_metrc: mean_R@1\n")
    with pytest.raises(ConfigError) as err:
        load_registry(include=[tmp_path])
    text = str(err.value)
    assert "bad.yaml: unknown kind 'retreival'; did you mean retrieval?" in text
    assert "worse.yaml: unknown reader 'dcii'; did you mean dci?" in text
    assert "retrieval has no option 'tie_polcy'" in text and "did you mean tie_policy?" in text
    assert "unknown family 'long_text'; did you mean long_text_retrieval?" in text
    assert "group 'long_retreival' is not declared in a groups.yaml; did you mean long_retrieval?" in text
    assert "typo.yaml: unknown field 'main_metrc'; did you mean main_metric?" in text
    assert len(validate(include=[tmp_path])) == 6


def test_a_user_task_cannot_replace_a_shipped_one_nor_a_group(tmp_path):
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "dci.yaml").write_text("include: long/dci\nname: long/dci\ndescription: mine\n")
    (tmp_path / "groups.yaml").write_text("zeroshot: {description: mine, aggregate: mean}\n"
                                          "mine: {description: my group, aggregate: mean}\n")
    problems = "\n".join(validate(include=[tmp_path]))
    assert "task 'long/dci' is already defined in tasks/long/dci.yaml" in problems
    assert "group 'zeroshot' is already declared" in problems and "mine" not in problems


def test_include_errors_name_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("include: nope.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("include: long/dcj\nname: b\n")
    (tmp_path / "c.yaml").write_text("include: _loop.yaml\nname: c\n")
    (tmp_path / "_loop.yaml").write_text("include: _loop.yaml\n")
    problems = "\n".join(validate(include=[tmp_path]))
    assert "a.yaml: include 'nope.yaml': no such file" in problems
    assert "b.yaml: include 'long/dcj': no such task" in problems
    assert "include cycle" in problems


def test_a_missing_include_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["tasks", "--include-path", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
