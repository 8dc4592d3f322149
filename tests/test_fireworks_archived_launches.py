"""FireWorks' rerun moves a firework's launches to ``archived_launches`` (Firework._rerun,
for the firework and every descendant it resets); later runs are ``launches`` again."""

import json

from user_commands import new_user

from launchpad import Firework, FWorker, ScriptTask, Workflow
from rocket import rapidfire


def chain():
    a = Firework([ScriptTask.from_str("true")], name="a", fw_id=-1)
    b = Firework([ScriptTask.from_str("true")], name="b", fw_id=-2, parents=[a])
    return Workflow([a, b], name="chain")


def ids(launches):
    return [launch.launch_id for launch in launches]


def test_rerun_archives_the_launches_of_the_firework_and_its_descendants(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    id_map = lp.add_wf(chain())
    a, b = id_map[-1], id_map[-2]
    assert rapidfire(lp, FWorker(), sleep_time=0) == 2
    first_a, first_b = ids(lp.get_fw_by_id(a).launches), ids(lp.get_fw_by_id(b).launches)
    lp.rerun_fw(a)
    fw_a, fw_b = lp.get_fw_by_id(a), lp.get_fw_by_id(b)
    assert (fw_a.launches, ids(fw_a.archived_launches)) == ([], first_a)
    assert (fw_b.launches, ids(fw_b.archived_launches)) == ([], first_b)
    as_dict = lp.get_fw_dict_by_id(a)
    assert as_dict["launches"] == [] and [x["launch_id"] for x in as_dict["archived_launches"]] == first_a
    assert rapidfire(lp, FWorker(), sleep_time=0) == 2
    fw_a = lp.get_fw_by_id(a)
    assert ids(fw_a.archived_launches) == first_a and len(fw_a.launches) == 1
    second_a = ids(fw_a.launches)
    lp.rerun_fw(b)  # a child's rerun leaves its parent's launches alone
    wf = lp.get_wf_by_fw_id(a)
    by_id = {fw.fw_id: fw for fw in wf}
    assert ids(by_id[a].launches) == second_a and ids(by_id[a].archived_launches) == first_a
    assert by_id[b].launches == [] and len(by_id[b].archived_launches) == 2
    assert len(lp.get_fw_dict(b)["launches"]) == 2  # starshell's own view keeps every launch


def test_lpad_get_fws_all_shows_archived_launches(tmp_path):
    user = new_user(tmp_path)
    path = tmp_path / "wf.yaml"
    chain().to_file(str(path))
    assert user.run("lpad", "add", str(path), timeout=60).returncode == 0
    assert user.run("rlaunch", "rapidfire", timeout=120).returncode == 0
    assert user.run("lpad", "rerun_fws", "-i", "1", timeout=60).returncode == 0
    shown = user.run("lpad", "get_fws", "-i", "1", "-d", "all", timeout=60)
    assert shown.returncode == 0, shown.stderr
    fw = json.loads(shown.stdout)
    assert fw.get("launches", []) == [] and len(fw["archived_launches"]) == 1
    assert fw["archived_launches"][0]["state"] == "COMPLETED"


def test_archive_wf_archives_the_launches_as_fireworks_does(lp, tmp_path, monkeypatch):
    """FireWorks' archive_wf reruns each firework first: an ARCHIVED firework's runs are
    its archived_launches (FireWorks' own database: launches [], archived_launches [9])."""
    monkeypatch.chdir(tmp_path)
    id_map = lp.add_wf(chain())
    assert rapidfire(lp, FWorker(), sleep_time=0) == 2
    ran = {fw_id: ids(lp.get_fw_by_id(fw_id).launches) for fw_id in id_map.values()}
    lp.archive_wf(id_map[-1])
    for fw_id, launches in ran.items():
        fw = lp.get_fw_by_id(fw_id)
        assert (fw.state, fw.launches, ids(fw.archived_launches)) == ("ARCHIVED", [], launches)
