import json
import subprocess
import sys

import pytest

from lipeval.errors import ConfigError
from lipeval.registry import load_registry, resolve, validate


def test_shipped_task_configs_validate():
    assert validate() == []


def test_resolve_tasks_groups_and_ad_hoc_in_order_without_duplicates():
    tasks = resolve(["synthetic/retrieval", "synthetic", "folder/mine", "wds/cars"])
    names = [t.name for t in tasks]
    assert names[0] == "synthetic/retrieval"
    assert names.count("synthetic/retrieval") == 1
    assert {"synthetic/zeroshot_shape", "folder/mine", "wds/cars"} <= set(names)
    adhoc = {t.name: t for t in tasks}
    assert adhoc["folder/mine"].reader == "image_folder" and adhoc["folder/mine"].folder == "folder/mine"
    assert adhoc["wds/cars"].kind == "auto"


def test_unknown_name_suggests_close_match():
    with pytest.raises(ConfigError, match="did you mean coco_retrieval"):
        resolve(["coco_retreival"])


def test_all_group_excludes_synthetic_tasks():
    tasks, groups = load_registry()
    assert groups["all"].members
    assert not any(m.startswith("synthetic/") for m in groups["all"].members)
    assert set(groups["synthetic"].members) == {n for n in tasks if n.startswith("synthetic/")}


def _write_registry(tmp_path, body: str, name="mine"):
    (tmp_path / "groups.yaml").write_text("g: {description: x, aggregate: mean}\n")
    (tmp_path / f"{name}.yaml").write_text(body)
    from lipeval.registry import _load

    _load.cache_clear()
    return tmp_path


def test_validate_reports_bad_kind_reader_metric_and_group(tmp_path):
    root = _write_registry(tmp_path, (
        "name: mine\nversion: 1\nkind: retrieval\ndescription: d\ngroups: [nope]\n"
        "dataset: {folder: f, reader: no_such_reader}\nmain_metric: acc1\nprotocol: {bogus: 1}\n"))
    problems = "\n".join(validate(root))
    assert "unknown reader 'no_such_reader'" in problems
    assert "main_metric 'acc1'" in problems
    assert "group 'nope'" in problems
    assert "has no option 'bogus'" in problems


def test_missing_field_and_name_mismatch_name_the_file(tmp_path):
    root = _write_registry(tmp_path, "name: other\nversion: 1\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml: missing field\(s\) kind"):
        load_registry(root)
    root = _write_registry(tmp_path, (
        "name: other\nversion: 1\nkind: retrieval\ndescription: d\ngroups: []\n"
        "dataset: {folder: f, reader: coco_karpathy}\nmain_metric: mean_R@1\n"))
    with pytest.raises(ConfigError, match="must equal its path"):
        load_registry(root)


def test_tasks_command_is_fast_and_torch_free():
    code = (
        "import sys, io, contextlib; from lipeval.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf): rc = main(['tasks', '--json'])\n"
        "assert rc == 0\n"
        "assert 'torch' not in sys.modules, 'lipeval tasks imported torch'\n"
        "print(buf.getvalue())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    listing = json.loads(out)
    names = {t["name"] for t in listing["tasks"]}
    assert {"coco_retrieval", "flickr30k_retrieval", "synthetic/retrieval"} <= names
    assert all({"kind", "main_metric", "version"} <= set(t) for t in listing["tasks"])


def test_tasks_unknown_group_is_an_error(capsys):
    from lipeval.cli import main

    assert main(["tasks", "--group", "retreival"]) == 2
    assert "did you mean retrieval" in capsys.readouterr().err
