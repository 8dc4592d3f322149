"""Issue 13 through Flask's test client, on every store: the actions the GUI offers
and refuses (launchpad/states.py's table), the counts its confirmations name,
bulk actions, the graph's groups and search, the live firework data and the
note on where a task's output went."""

import pytest
from test_webgui_api import csrf_token, log_in, make_app, post

from launchpad import Firework, Workflow
from launchpad.errors import InvalidTransitionError
from launchpad.states import ALL_STATES, COMMAND_SOURCES, LaunchState
from launchpad.tasks import ScriptTask
from webgui.actions import legal_actions
from webgui.demo import build_demo

METHODS = {"rerun": "rerun_fw", "defuse": "defuse_fw", "reignite": "reignite_fw", "pause": "pause_fw"}
METHODS["resume"] = "resume_fw"


def chain(lp, n, name="chain"):
    fws = [Firework(ScriptTask(script="true"), name=f"{name} {i}", fw_id=i) for i in range(1, n + 1)]
    lp.add_wf(Workflow(fws, {i: [i + 1] for i in range(1, n)}, name=name))


@pytest.fixture
def demo(lp, tmp_path):
    return lp, build_demo(lp, tmp_path / "launches")


def logged_in_client(lp):
    client = make_app(lp).test_client()
    client.token = log_in(client)
    return client


@pytest.fixture
def client(demo):
    return logged_in_client(demo[0])


@pytest.fixture
def bare(lp):
    """A logged-in client over an empty store."""
    return logged_in_client(lp)


def test_command_sources_are_what_the_launchpad_accepts(lp):
    """The GUI offers from COMMAND_SOURCES; the LaunchPad must accept exactly those."""
    assert set(COMMAND_SOURCES) == set(METHODS)
    cases = [(state, command) for state in ALL_STATES for command in METHODS]
    fws = [Firework(ScriptTask(script="true"), fw_id=i) for i in range(1, len(cases) + 1)]
    lp.add_wf(Workflow(fws, {}, name="every state"))
    for fw_id, (state, command) in enumerate(cases, start=1):
        lp.store.update_fireworks([fw_id], {"state": state})
        try:
            getattr(lp, METHODS[command])(fw_id)
            accepted = True
        except InvalidTransitionError:
            accepted = False
        assert accepted == (state in COMMAND_SOURCES[command]), (state, command)
        assert (command in legal_actions(state)) == accepted


def test_firework_page_offers_only_legal_actions(client, demo):
    lp, ids = demo
    offered = client.get(f"/api/fireworks/{ids[3]}/actions").get_json()
    assert offered["state"] == "FIZZLED"
    assert [a["action"] for a in offered["actions"]] == ["rerun", "defuse", "priority"]
    assert [a["action"] for a in offered["workflow"]] == ["archive", "delete"]
    page = client.get(f"/fireworks/{ids[1]}").get_data(as_text=True)  # COMPLETED
    assert 'data-action="rerun"' in page and 'data-action="pause"' not in page
    assert 'data-action="archive"' in page
    # FireWorks' defuse_fw reruns a COMPLETED firework, then defuses it: so it is offered
    assert 'data-action="defuse"' in page


def test_illegal_actions_are_refused_with_the_legal_ones_named(client, demo):
    lp, ids = demo
    response = post(client, f"/api/fireworks/{ids[1]}/pause", client.token)
    assert response.status_code == 409
    assert response.get_json()["error"] == (
        f"firework {ids[1]} is COMPLETED: pause is not possible (possible: rerun, defuse, priority)"
    )
    assert lp.get_fw_dict(ids[1], with_launches=False)["state"] == "COMPLETED"
    bulk = post(client, "/api/actions", client.token, {"action": "reignite", "fw_ids": [ids[1], ids[3]]})
    assert bulk.status_code == 409 and len(bulk.get_json()["failed"]) == 2


def test_preview_counts_what_an_action_changes_and_changes_nothing(client, demo):
    lp, ids = demo
    before = lp.fw_state_counts({"wf_id": 1})
    rerun = post(
        client, "/api/actions/preview", client.token, {"action": "rerun", "fw_ids": [ids[3]]}
    ).get_json()
    assert rerun["changes"] == 3 and rerun["needs_confirm"]  # the firework, its child and the last one
    assert rerun["confirm"] == "Rerun this firework? This changes 3 fireworks: it and its 2 descendants."
    defuse = post(client, "/api/actions/preview", client.token, {"action": "defuse", "fw_ids": [ids[3]]})
    assert "2 descendants cannot run until reignited" in defuse.get_json()["confirm"]
    leaf = post(client, "/api/actions/preview", client.token, {"action": "pause", "fw_ids": [ids[8]]})
    assert leaf.get_json()["changes"] == 1 and not leaf.get_json()["needs_confirm"]
    assert lp.fw_state_counts({"wf_id": 1}) == before
    anonymous = make_app(lp).test_client()
    token = csrf_token(anonymous)
    assert (
        post(anonymous, "/api/actions/preview", token, {"action": "rerun", "fw_ids": [1]}).status_code == 401
    )


def test_bulk_rerun_of_every_fizzled_firework_and_pause_of_a_workflow(bare, lp):
    chain(lp, 6)
    lp.store.update_fireworks([2, 4], {"state": "FIZZLED"})
    offered = {a["action"]: a for a in bare.get("/api/workflows/1/actions").get_json()["actions"]}
    assert offered["rerun"]["changes"] == 5 and offered["rerun"]["fw_ids"] == [2, 4]
    assert (
        offered["delete"]["confirm"] == "Delete workflow 1? This deletes all 6 fireworks and their launches."
    )
    page = bare.get("/workflows/1?state=WAITING").get_data(as_text=True)  # the table's filter
    assert 'data-action="rerun" data-state="WAITING"' in page and "Rerun every WAITING firework" in page
    plan = bare.get("/api/workflows/1/actions/rerun?state=FIZZLED").get_json()
    assert plan["confirm"].startswith("Rerun the 2 FIZZLED fireworks of workflow 1? This changes 5 fireworks")
    done = post(bare, "/api/workflows/1/actions", bare.token, {"action": "rerun", "state": "FIZZLED"})
    assert done.status_code == 200 and done.get_json()["changed"] == [2, 3, 4, 5, 6]
    assert lp.fw_state_counts({"wf_id": 1}).get("FIZZLED", 0) == 0
    paused = post(bare, "/api/workflows/1/actions", bare.token, {"action": "pause"}).get_json()
    assert paused["changed"] == [1, 2, 3, 4, 5, 6]  # READY or WAITING: all six
    assert lp.fw_state_counts({"wf_id": 1})["PAUSED"] == 6
    again = post(bare, "/api/workflows/1/actions", bare.token, {"action": "pause"})
    assert again.status_code == 409 and "no firework of workflow 1 can change" in again.get_json()["error"]
    assert post(bare, "/api/workflows/1/actions", None, {"action": "pause"}).status_code in (400, 403)


def test_graph_groups_dense_layers_expands_pins_and_finds(bare, lp):
    fws = [Firework(ScriptTask(script="true"), name=f"wide {i}", fw_id=i) for i in range(1, 102)]
    lp.add_wf(Workflow(fws, {1: list(range(2, 102))}, name="fan out"))
    graph = bare.get("/api/workflows/1/graph").get_json()
    assert [n["fw_id"] for n in graph["nodes"]] == [1]
    (group,) = graph["groups"]
    assert group["count"] == 100 and group["states"] == {"WAITING": 100} and group["expandable"]
    opened = bare.get("/api/workflows/1/graph?expand=1").get_json()
    assert len(opened["nodes"]) == 101 and opened["groups"] == [] and opened["expanded"] == [1]
    pinned = bare.get("/api/workflows/1/graph?pin=77").get_json()
    assert sorted(n["fw_id"] for n in pinned["nodes"]) == [1, 77] and pinned["groups"][0]["count"] == 99
    assert bare.get("/api/workflows/1/graph?expand=x").status_code == 400
    found = bare.get("/api/workflows/1/find?q=wide 7").get_json()["matches"]
    assert [m["fw_id"] for m in found][:2] == [7, 70]
    assert bare.get("/api/workflows/1/find?q=%2377").get_json()["matches"][0]["fw_id"] == 77
    delete = {a["action"]: a for a in bare.get("/api/workflows/1/actions").get_json()["actions"]}["delete"]
    assert delete["changes"] == 101 and len(delete["fw_ids"]) == 100  # counts whole, id lists cut


def test_live_data_of_a_running_firework_and_the_runtime_of_an_interrupted_one(bare, lp, tmp_path):
    chain(lp, 2)
    fw, launch_id = lp.claim_to_run(fw_id=1, launch_dir=str(tmp_path), host="node1", ip="10.0.0.1")
    lp.ping_launch(
        launch_id, trackers=[{"filename": "progress.txt", "nlines": 2, "content": "step 2\nstep 3"}]
    )
    live = bare.get("/api/fireworks/1/live").get_json()
    assert live["running"] and live["state"] == "RUNNING"
    assert live["launch"]["runtime_note"] == "so far" and live["launch"]["heartbeat_age_secs"] is not None
    assert live["launch"]["trackers"][0]["content"] == "step 2\nstep 3"
    lp.interrupt_launch(launch_id, 1, requeue=True)
    live = bare.get("/api/fireworks/1/live").get_json()
    assert not live["running"] and live["launch"]["state"] == LaunchState.FIZZLED.value
    assert live["launch"]["runtime_note"] == "until it was interrupted"
    page = bare.get("/fireworks/1").get_data(as_text=True)
    assert "(until it was interrupted)" in page and "(interrupted)" in page


def test_a_script_task_without_output_files_says_where_its_output_went(bare, lp, tmp_path):
    lp.add_wf(Workflow([Firework(ScriptTask(script="echo hi"), fw_id=1)], name="quiet"))
    fw, launch_id = lp.claim_to_run(fw_id=1, launch_dir=str(tmp_path), host="node1", ip="10.0.0.1")
    lp.complete_launch(launch_id, fw_id=1)
    page = bare.get("/fireworks/1").get_data(as_text=True)
    assert f"No *.out, *.err or *.log file in the launch directory {tmp_path}." in page
    assert "stdout not saved: it went to the rlaunch process&#39;s own output" in page
    assert "set stdout_file/stderr_file" in page
    lp.add_wf(Workflow([Firework(ScriptTask(script="echo hi"), fw_id=1)], name="elsewhere"))
    fw, launch_id = lp.claim_to_run(fw_id=2, launch_dir="/on/another/host", host="node2", ip="10.0.0.2")
    lp.complete_launch(launch_id, fw_id=2)
    elsewhere = bare.get("/fireworks/2").get_data(as_text=True)
    assert "The launch directory /on/another/host cannot be read from this server" in elsewhere
    (tmp_path / "run.out").write_text("hi\n")
    assert "Where the output went" not in bare.get("/fireworks/1").get_data(as_text=True)
