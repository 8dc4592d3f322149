"""FireWorks' ``FWData()`` (``launchpad.fw_config.FWData``): a task under ``rlaunch multi``
reads its share of the nodes from it, as under FireWorks' multi launcher."""

import json
import os
import textwrap

from launchpad.fw_config import FWData
from launchpad.fw_data import NODE_LIST_ENV, SUB_NPROCS_ENV
from tests.user_commands import new_user

TASK_MODULE = """
import json, os
from launchpad.fw_config import FWData

def record():
    data = FWData()
    assert data is FWData()
    with open("fwdata.json", "w") as handle:
        json.dump({"nodes": data.NODE_LIST, "nprocs": data.SUB_NPROCS,
                   "multi": data.MULTIPROCESSING, "server": data.DATASERVER,
                   "running": {str(pid): launch for pid, launch in data.Running_IDs.items()},
                   "pid": os.getpid()}, handle)
"""

FIREWORK = """
name: reads FWData
spec:
  _tasks:
  - {_fw_name: PyTask, func: nodetask.record}
"""


def test_outside_job_packing_everything_is_none_as_in_fireworks(monkeypatch):
    monkeypatch.delenv(NODE_LIST_ENV, raising=False)
    monkeypatch.delenv(SUB_NPROCS_ENV, raising=False)
    data = FWData()
    assert data is FWData()
    assert (data.MULTIPROCESSING, data.NODE_LIST, data.SUB_NPROCS, data.DATASERVER, data.Running_IDs) == (
        None,
        None,
        None,
        None,
        None,
    )
    monkeypatch.setenv(NODE_LIST_ENV, "n1,n2")
    monkeypatch.setenv(SUB_NPROCS_ENV, "8")
    assert (data.MULTIPROCESSING, data.NODE_LIST, data.SUB_NPROCS) == (True, ["n1", "n2"], 8)


def test_a_task_under_rlaunch_multi_reads_its_nodes_from_fwdata(tmp_path):
    user = new_user(tmp_path)
    (user.work / "nodetask.py").write_text(textwrap.dedent(TASK_MODULE))
    (user.work / "nodes").write_text("n1\nn2\nn3\nn1\nn4\n")
    for i in range(2):
        (user.work / f"fw{i}.yaml").write_text(FIREWORK)
        assert user.run("lpad", "add", f"fw{i}.yaml").returncode == 0
    env = {"PYTHONPATH": f"{user.work}{os.pathsep}{user.env['PYTHONPATH']}"}
    ran = user.run(
        "rlaunch", "multi", "2", "--nodefile", "nodes", "--ppn", "3", "--sleep", "0", extra_env=env
    )
    assert ran.returncode == 0, ran.stderr
    seen = [json.loads(p.read_text()) for p in user.work.glob("launcher_*/fwdata.json")]
    assert len(seen) == 2, ran.stderr
    for data in seen:
        assert data["nodes"] in (["n1", "n2"], ["n3", "n4"])  # this process's half, sorted
        assert (data["nprocs"], data["multi"], data["server"]) == (6, True, None)
        assert list(data["running"]) == [str(data["pid"])] and data["running"][str(data["pid"])] >= 1


def test_without_a_nodefile_node_list_is_none_and_sub_nprocs_is_ppn(tmp_path):
    user = new_user(tmp_path)
    (user.work / "nodetask.py").write_text(textwrap.dedent(TASK_MODULE))
    (user.work / "fw.yaml").write_text(FIREWORK)
    assert user.run("lpad", "add", "fw.yaml").returncode == 0
    env = {"PYTHONPATH": f"{user.work}{os.pathsep}{user.env['PYTHONPATH']}"}
    ran = user.run("rlaunch", "multi", "1", "--ppn", "2", "--sleep", "0", extra_env=env)
    assert ran.returncode == 0, ran.stderr
    (data,) = [json.loads(p.read_text()) for p in user.work.glob("launcher_*/fwdata.json")]
    assert (data["nodes"], data["nprocs"], data["multi"]) == (None, 2, True)
