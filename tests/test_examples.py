"""The dynamic examples (examples/README.md) run to COMPLETED on both stores with the results they promise."""

import os
import subprocess
import sys

import pytest
from conftest import ROOT
from test_corpus import (  # noqa: F401
    EXAMPLES,
    launch_env,
    launch_order,
    no_user_packages,
    read,
    run_all,
    stored,
    tutorial_tasks,
)

from launchpad.errors import WorkflowFileError
from launchpad.workflow_files import load_workflow


def example(name):
    return os.path.join(EXAMPLES, name)


def test_fibonacci_grows_itself_through_additions(lp, launch_env, tutorial_tasks):  # noqa: F811
    (first,) = lp.add_wf(load_workflow(example("fibonacci.yaml"))).values()
    assert run_all(lp, launch_env) == 11
    order = launch_order(lp)
    assert [stored(lp, i)["next_fibnum"] for i in order] == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]
    wf = lp.get_wf_by_fw_id(first)
    assert wf.name == "Fibonacci adder" and wf.state == "COMPLETED" and len(wf.fws) == 11
    # each addition hangs below the firework that made it: one chain
    assert all(wf.links[parent] == [child] for parent, child in zip(order, order[1:]))
    assert wf.id_fw[order[-1]].name == "Fibonacci 89"


def test_map_reduce_fans_out_with_a_detour_and_sums_the_mappers(lp, launch_env, tutorial_tasks):  # noqa: F811
    id_map = lp.add_wf(load_workflow(example("map_reduce.yaml")))
    split, reduce_ = id_map[1], id_map[2]
    assert run_all(lp, launch_env) == 6
    wf = lp.get_wf_by_fw_id(split)
    assert wf.state == "COMPLETED"
    mappers = sorted(set(wf.id_fw) - {split, reduce_})
    assert len(mappers) == stored(lp, split)["chunks"] == 4
    parents = wf.parent_links()
    for m in mappers:  # side by side, between split and reduce
        assert parents[m] == [split] and wf.links[m] == [reduce_]
    assert sorted(parents[reduce_]) == sorted([split, *mappers])
    assert launch_order(lp)[-1] == reduce_
    partials = [stored(lp, m)["partial"] for m in mappers]
    assert sorted(partials) == [14, 77, 100, 194]  # chunks of 3 of 1..10, squared
    assert sorted(wf.id_fw[reduce_].spec["partial_sums"]) == sorted(partials)
    assert stored(lp, reduce_) == {"total": 385, "partials": 4}  # 1² + ... + 10²


def test_script_pipeline_hands_files_down(lp, launch_env):  # noqa: F811
    id_map = lp.add_wf(load_workflow(example("script_pipeline.yaml")))
    assert run_all(lp, launch_env) == 3
    assert launch_order(lp) == [id_map[1], id_map[2], id_map[3]]
    first, second, third = (lp.get_launchdir(id_map[i]) for i in (1, 2, 3))
    assert read(os.path.join(second, "input.txt")) == read(os.path.join(first, "text.txt"))
    assert read(os.path.join(third, "counts.txt")).split("\n")[0].split() == ["4", "the"]
    assert read(os.path.join(third, "report.txt")) == "most common word: the (4 times)\n"


def test_a_missing_file_fizzles_the_child_not_the_rocket(lp, launch_env):  # noqa: F811
    """If a parent's _files_out matched nothing, the child fails with a message naming the label."""
    wf = load_workflow(example("script_pipeline.yaml"))
    wf.id_fw[1].spec["_files_out"] = {"text": "no-such-file.txt"}
    id_map = lp.add_wf(wf)
    run_all(lp, launch_env)
    child = lp.get_launches({"fw_id": id_map[2]})[0]
    assert child["state"] == "FIZZLED"
    assert "_files_in wants 'text'" in child["exception"]["message"]
    assert lp.get_fw_dict(id_map[3])["state"] == "WAITING"


@pytest.mark.parametrize("name", ["fibonacci.yaml", "map_reduce.yaml"])
def test_dynamic_examples_name_the_package_they_need(no_user_packages, name):  # noqa: F811
    with pytest.raises(WorkflowFileError, match="STARSHELL_USER_PACKAGES"):
        load_workflow(example(name))


def test_the_readme_commands_run_fibonacci(tmp_path):
    """examples/README.md: export PYTHONPATH and STARSHELL_USER_PACKAGES, lpad add, rlaunch rapidfire."""
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "STARSHELL_HOME": str(tmp_path / "home"),
        "PYTHONPATH": os.pathsep.join([EXAMPLES, ROOT]),
        "STARSHELL_USER_PACKAGES": "tutorial_tasks",
    }
    env.pop("STARSHELL_LAUNCHPAD", None)

    def run(*argv):
        return subprocess.run(
            [sys.executable, "-m", *argv], cwd=work, env=env, capture_output=True, text=True, timeout=60
        )

    added = run("launchpad.cli", "add", example("fibonacci.yaml"))
    assert added.returncode == 0, added.stderr
    ran = run("rocket.cli", "-s", "rapidfire")
    assert ran.returncode == 0, ran.stderr
    assert "The next Fibonacci number is: 144" in ran.stdout
    counted = run("launchpad.cli", "get_fws", "-s", "COMPLETED", "-d", "count")
    assert counted.stdout.strip() == "11", counted.stderr
