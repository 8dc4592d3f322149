"""FireWorks' LaunchPad methods, as its own test_launchpad.py exercises them, on both stores.

The scenarios are FireWorks' (fireworks/core/tests/test_launchpad.py), written
again: constructor arguments and to_dict/from_dict, add_wf renumbering the
caller's objects, id queries with launches_mode, summaries, reset's guard,
defusing a COMPLETED firework, and the raw collections on MongoDB.
"""

import mongomock
import pytest

from launchpad import Firework, FWorker, LaunchPad, Workflow
from launchpad.errors import NoRawCollectionError, StarshellError
from launchpad.tasks import ScriptTask


def echo(name, fw_id=None, parents=None, spec=None):
    return Firework(ScriptTask(script=f"echo {name}"), spec=spec, name=name, fw_id=fw_id, parents=parents)


def chain(lp):
    """A -> B -> C added with negative ids, as FireWorks' tests build them."""
    a = echo("A", -1)
    b = echo("B", -2, parents=[a])
    c = echo("C", -3, parents=[b])
    return a, b, c, lp.add_wf(Workflow([a, b, c], name="chain", metadata={"project": "p1"}))


def run(lp, fw_id, state="COMPLETED", launch_dir="/scratch/run"):
    fw, launch_id = lp.checkout_fw(FWorker(), launch_dir, fw_id=fw_id, host="node1")
    assert fw.fw_id == fw_id and fw.state == "RUNNING"
    lp.complete_launch(launch_id, state=state)
    return launch_id


@pytest.fixture
def fake_mongodb(monkeypatch):
    """pymongo's MongoClient replaced by one shared mongomock server (FireWorks' own tests
    run against mongomock the same way)."""
    import pymongo

    server = mongomock.MongoClient()
    monkeypatch.setattr(pymongo, "MongoClient", lambda *args, **kwargs: server)
    return server


# ---- constructor, to_dict, from_dict, to_file ------------------------------------


def test_fireworks_constructor_arguments_select_mongodb(fake_mongodb, tmp_path):
    lp = LaunchPad(name="fws_test", strm_lvl="ERROR", logdir=str(tmp_path), user_indices=["spec.x"])
    assert lp.describe() == "mongodb://localhost:27017/fws_test"
    assert lp.get_logdir() == str(tmp_path)
    d = lp.to_dict()
    assert {k: d[k] for k in ("host", "port", "name", "authsource", "uri_mode", "strm_lvl")} == {
        "host": "localhost",
        "port": 27017,
        "name": "fws_test",
        "authsource": "fws_test",
        "uri_mode": False,
        "strm_lvl": "ERROR",
    }
    assert d["user_indices"] == ["spec.x"] and d["wf_user_indices"] == []
    chain(lp)
    again = LaunchPad.from_dict(d)
    assert again.get_fw_ids() == [1, 2, 3] and again.get_logdir() == str(tmp_path)
    path = tmp_path / "my_launchpad.yaml"
    lp.to_file(str(path))
    assert LaunchPad.from_file(str(path)).get_fw_ids() == [1, 2, 3]
    positional = LaunchPad("localhost", 27017, "fws_test")
    assert positional.get_fw_ids(count_only=True) == 3


def test_uri_mode_takes_the_connection_string_as_host(fake_mongodb):
    lp = LaunchPad(host="mongodb://user:pw@db.example:27017/fws_uri", uri_mode=True)
    assert lp.describe().endswith("/fws_uri") and "pw" not in lp.describe()
    assert lp.to_dict()["uri_mode"] is True
    with pytest.raises(ValueError):
        LaunchPad(host="db.example", uri_mode=True)


def test_embedded_store_to_dict_names_its_file(sqlite_lp, tmp_path):
    chain(sqlite_lp)
    assert sqlite_lp.to_dict() == {"store": "sqlite", "path": str(tmp_path / "launchpad.sqlite")}
    sqlite_lp.to_file(str(tmp_path / "lp.yaml"))
    assert LaunchPad.from_file(str(tmp_path / "lp.yaml")).get_fw_ids(count_only=True) == 3
    assert LaunchPad.from_dict(sqlite_lp.to_dict()).get_fw_ids(count_only=True) == 3


# ---- adding -----------------------------------------------------------------------


def test_add_wf_renumbers_the_callers_fireworks_in_place(lp):
    a, b, c, id_map = chain(lp)
    assert id_map == {-3: 1, -2: 2, -1: 3}  # FireWorks sorts the old ids first
    assert (a.fw_id, b.fw_id, c.fw_id) == (3, 2, 1)
    assert (a.state, b.state, c.state) == ("READY", "WAITING", "WAITING")
    assert lp.get_fw_by_id(a.fw_id).name == "A"
    again = lp.add_wf(a)  # a Firework alone: a one-firework workflow with a fresh id
    assert again == {3: 4} and a.fw_id == 4


def test_bulk_add_wfs_adds_every_workflow(lp):
    lp.bulk_add_wfs([Workflow([echo("x", -1), echo("y", -2, parents=[-1])]), echo("z")])
    assert lp.get_fw_ids(count_only=True) == 3 and len(lp.get_wf_ids()) == 2


# ---- reading ----------------------------------------------------------------------


def test_get_fw_dict_by_id_has_launch_records(lp):
    a, *_ = chain(lp)
    launch_id = run(lp, a.fw_id)
    d = lp.get_fw_dict_by_id(a.fw_id)
    assert d["state"] == "COMPLETED" and d["archived_launches"] == []
    assert [x["launch_id"] for x in d["launches"]] == [launch_id]
    with pytest.raises(ValueError):
        lp.get_fw_dict_by_id(999)


def test_get_wf_by_fw_id_lzyfw_gives_the_whole_workflow(lp):
    a, b, c, _ = chain(lp)
    wf = lp.get_wf_by_fw_id_lzyfw(b.fw_id)
    assert sorted(wf.id_fw) == sorted([a.fw_id, b.fw_id, c.fw_id]) and wf.state == "READY"


def test_get_fw_ids_sort_limit_count_and_launches_mode(lp):
    a, b, c, _ = chain(lp)
    assert lp.get_fw_ids(sort=[("fw_id", -1)], limit=2) == [3, 2]
    assert lp.get_fw_ids({"state": "WAITING"}, count_only=True) == 2
    with pytest.raises(ValueError):
        lp.get_fw_ids(count_only=True, limit=1)
    run(lp, a.fw_id)
    run(lp, b.fw_id, state="FIZZLED")
    assert lp.get_fw_ids({"state": "FIZZLED"}, launches_mode=True) == [b.fw_id]
    assert lp.get_fw_ids({"host": "node1"}, launches_mode=True, count_only=True) == 2
    assert lp.get_fw_ids({"state": "FIZZLED"}) == [b.fw_id]  # the firework's own state, too


def test_get_fw_ids_in_wfs(lp):
    a, b, c, _ = chain(lp)
    lp.add_wf(Workflow([echo("other")], name="other", metadata={"project": "p2"}))
    assert sorted(lp.get_fw_ids_in_wfs({"metadata.project": "p1"})) == [1, 2, 3]
    assert lp.get_fw_ids_in_wfs({"name": "chain"}, {"name": "B"}) == [b.fw_id]
    assert lp.get_fw_ids_in_wfs({"name": "other"}, count_only=True) == 1


def test_get_wf_summary_dict_in_fireworks_modes(lp):
    a, b, c, _ = chain(lp)
    run(lp, a.fw_id, launch_dir="/scratch/a")
    more = lp.get_wf_summary_dict(b.fw_id)
    assert more["name"] == "chain" and more["state"] == "RUNNING"
    assert more["states"] == {"A--3": "COMPLETED", "B--2": "READY", "C--1": "WAITING"}
    assert more["launch_dirs"] == {"A--3": ["/scratch/a"], "B--2": [], "C--1": []}
    assert {"created_on", "updated_on"} <= set(more)
    less = lp.get_wf_summary_dict(b.fw_id, "less")
    assert less["states_list"] in ("W-REA-C", "C-REA-W") and "launch_dirs" not in less
    everything = lp.get_wf_summary_dict(b.fw_id, "all")
    assert everything["links"]["A--3"] == ["B--2"] and everything["parent_links"]["C--1"] == ["B--2"]
    assert everything["metadata"] == {"project": "p1"}
    with pytest.raises(ValueError):
        lp.get_wf_summary_dict(b.fw_id, "most")


# ---- changes ----------------------------------------------------------------------


def test_defuse_fw_of_a_completed_firework_reruns_it_then_defuses(lp):
    a, b, c, _ = chain(lp)
    run(lp, a.fw_id)
    run(lp, b.fw_id)
    lp.defuse_fw(a.fw_id)
    states = {fw.name: fw.state for fw in lp.get_wf_by_fw_id(a.fw_id)}
    assert states == {"A": "DEFUSED", "B": "WAITING", "C": "WAITING"}
    lp.reignite_fw(a.fw_id)
    assert lp.get_fw_by_id(a.fw_id).state == "READY"


def test_reset_guards_as_fireworks_does(lp):
    chain(lp)
    with pytest.raises(ValueError, match="today's date"):
        lp.reset("1999-01-01")
    lp.add_wf(echo("second"))
    with pytest.raises(ValueError, match="max_reset_wo_password"):
        lp.reset(None, require_password=False, max_reset_wo_password=1)
    lp.reset(None, require_password=False)  # 2 workflows, under FireWorks' default of 25
    assert lp.get_fw_ids() == []


def test_mark_fizzled_and_change_launch_dir(lp):
    a, *_ = chain(lp)
    _, launch_id = lp.checkout_fw(FWorker(), "/old", fw_id=a.fw_id)
    lp.change_launch_dir(launch_id, "/new")
    assert lp.get_launch_by_id(launch_id).launch_dir == "/new"
    lp.mark_fizzled(launch_id)
    assert lp.get_fw_by_id(a.fw_id).state == "FIZZLED"
    assert lp.get_launch_by_id(launch_id).state == "FIZZLED"


def test_detect_unreserved_releases_old_reservations(lp):
    a, *_ = chain(lp)
    fw, launch_id = lp.reserve_fw(FWorker(), "/scratch/queued")
    assert fw.fw_id == a.fw_id
    assert lp.detect_unreserved(expiration_secs=3600) == []
    assert lp.detect_unreserved(expiration_secs=-1) == [launch_id]
    assert lp.get_fw_by_id(a.fw_id).state == "RESERVED"
    assert lp.detect_unreserved(expiration_secs=-1, rerun=True) == [launch_id]
    assert lp.get_fw_by_id(a.fw_id).state == "READY"


def test_reserve_fw_gives_a_firework_that_launch_rocket_then_runs(lp, tmp_path, monkeypatch):
    """FireWorks' qlaunch -r sequence in a script: ``fw, launch_id = lp.reserve_fw(...)``
    reads as a Firework, and the job's rocket runs that reservation."""
    from rocket import launch_rocket

    monkeypatch.chdir(tmp_path)
    a, b, *_ = chain(lp)
    fw, launch_id = lp.reserve_fw(FWorker(), str(tmp_path), host="login1")
    assert isinstance(fw, Firework) and (fw.fw_id, fw.name, fw.state) == (a.fw_id, "A", "RESERVED")
    assert fw.tasks[0]["script"] == "echo A" and "_priority" not in fw.spec
    assert [(x.launch_id, x.state, x.launch_dir, x.host) for x in fw.launches] == [
        (launch_id, "RESERVED", str(tmp_path), "login1")
    ]
    assert launch_rocket(lp, FWorker(), fw_id=fw.fw_id) == a.fw_id
    done = lp.get_fw_by_id(a.fw_id)
    assert done.state == "COMPLETED" and [x.launch_id for x in done.launches] == [launch_id]
    assert lp.get_fw_by_id(b.fw_id).state == "READY"


def test_checkout_fw_takes_what_the_fworker_query_allows(lp):
    lp.add_wf(Workflow([echo("cpu", -1, spec={"kind": "cpu"}), echo("gpu", -2, spec={"kind": "gpu"})]))
    fw, launch_id = lp.checkout_fw(FWorker(query={"spec.kind": "gpu"}), "/scratch/gpu", ip="10.0.0.9")
    assert (fw.name, fw.state, fw.spec["kind"]) == ("gpu", "RUNNING", "gpu")
    (launch,) = fw.launches
    assert (launch.launch_id, launch.state, launch.launch_dir, launch.ip) == (
        launch_id,
        "RUNNING",
        "/scratch/gpu",
        "10.0.0.9",
    )
    assert launch.fworker.query == {"spec.kind": "gpu"}
    assert lp.checkout_fw(FWorker(query={"spec.kind": "gpu"}), "/scratch/gpu") == (None, None)
    fw, _ = lp.checkout_fw(FWorker(), "/scratch/any")
    assert fw.name == "cpu"
    assert lp.checkout_fw(FWorker(), "/scratch/any") == (None, None)
    assert lp.reserve_fw(FWorker(), "/scratch/queued") == (None, None)
    with pytest.raises(ValueError, match="RUNNING or RESERVED"):
        lp.checkout_fw(FWorker(), "/scratch/any", state="COMPLETED")


def test_a_firework_named_by_id_is_checked_out_whatever_the_fworker_rules(lp):
    """FireWorks' checkout with ``fw_id`` overrides the FWorker's category and query
    (``rlaunch singleshot --fw_id`` runs that firework); a ``_fworker`` pin still holds."""
    gpu = echo("gpu", -1, spec={"_category": "gpu", "kind": "gpu"})
    pinned = echo("pinned", -2, spec={"_fworker": "login1"})
    queued = echo("queued", -3, spec={"_category": "gpu"})
    lp.add_wf(Workflow([gpu, pinned, queued]))  # renumbers the objects in place
    cpu = FWorker(name="node7", category="cpu", query={"spec.kind": "cpu"})
    assert lp.checkout_fw(cpu, "/scratch/cpu") == (None, None)
    fw, launch_id = lp.checkout_fw(cpu, "/scratch/cpu", fw_id=gpu.fw_id)
    assert (fw.name, fw.state) == ("gpu", "RUNNING")
    assert fw.launches[0].fworker.category == "cpu"  # the launch records who ran it
    assert lp.checkout_fw(cpu, "/scratch/cpu", fw_id=pinned.fw_id) == (None, None)
    fw, _ = lp.reserve_fw(cpu, "/scratch/queued", fw_id=queued.fw_id)
    assert (fw.name, fw.state) == ("queued", "RESERVED")


def test_rlaunch_singleshot_fw_id_runs_a_firework_of_another_category(tmp_path):
    """The user's command: a worker file for cpu fireworks, ``--fw_id`` names a gpu one."""
    from tests.user_commands import new_user

    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(
        "fws:\n- fw_id: 1\n  name: gpu\n  spec:\n    _category: gpu\n    _tasks:\n"
        "    - _fw_name: ScriptTask\n      script: echo ran > ran.txt\n"
    )
    (user.work / "cpu_worker.yaml").write_text("name: node7\ncategory: cpu\n")
    assert user.run("lpad", "add", "wf.yaml").returncode == 0
    refused = user.run("rlaunch", "-w", "cpu_worker.yaml", "singleshot")
    assert refused.returncode == 0 and not (user.work / "ran.txt").exists()
    ran = user.run("rlaunch", "-w", "cpu_worker.yaml", "singleshot", "--fw_id", "1")
    assert ran.returncode == 0, ran.stderr
    assert (user.work / "ran.txt").read_text() == "ran\n"
    states = user.run("lpad", "get_fws", "-i", "1", "-d", "more")
    assert '"COMPLETED"' in states.stdout, states.stdout


# ---- raw collections --------------------------------------------------------------


def test_raw_collections_answer_fireworks_style_read_queries(lp):
    a, b, c, _ = chain(lp)
    launch_id = run(lp, a.fw_id, launch_dir="/scratch/a")
    if lp.store.kind != "mongodb":
        for name in ("fireworks", "launches", "workflows", "db"):
            with pytest.raises(NoRawCollectionError, match="embedded store") as caught:
                getattr(lp, name)
            assert isinstance(caught.value, (AttributeError, StarshellError))
            assert not hasattr(lp, name)
        return
    assert lp.db.name == lp.fireworks.database.name
    done = lp.fireworks.find_one({"state": "COMPLETED"}, {"_id": 0, "fw_id": 1, "name": 1, "spec": 1})
    assert done["fw_id"] == a.fw_id and done["name"] == "A" and done["spec"]["_tasks"]
    assert lp.fireworks.count_documents({"state": {"$in": ["READY", "WAITING"]}}) == 2
    assert [d["fw_id"] for d in lp.fireworks.find({}, {"fw_id": 1}).sort("fw_id", -1)] == [3, 2, 1]
    for d in lp.fireworks.find():
        assert {"fw_id", "name", "state", "spec", "created_on", "updated_on"} <= set(d)
    launch = lp.launches.find_one({"fw_id": a.fw_id})
    assert launch["launch_id"] == launch_id and launch["state"] == "COMPLETED"
    assert launch["launch_dir"] == "/scratch/a" and launch["host"] == "node1"
    assert {"time_start", "time_end", "action", "fworker", "state_history"} <= set(launch)
    assert lp.workflows.find_one({"name": "chain"})["metadata"] == {"project": "p1"}
    assert lp.db.launches.count_documents({}) == 1
