"""The web GUI's JSON API through Flask's test client, on every store backend.

Covers what the pages read (summary, lists, graph, firework details, file
tails) and the guards on what they change: login, CSRF token, modes, path
traversal and refused query operators.
"""

import os

import pytest
from werkzeug.security import generate_password_hash

from webgui import create_app, data
from webgui.colors import DISPLAY_ORDER
from webgui.demo import build_demo, record_launch

PASSWORD = "correct horse"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@pytest.fixture
def demo(lp, tmp_path):
    """The demo workflow: 1 COMPLETED root, 2 COMPLETED, 3 FIZZLED, 4 RUNNING, 5 READY..."""
    ids = build_demo(lp, tmp_path / "launches")
    return lp, ids


def make_app(lp, **config):
    config.setdefault("STARSHELL_PASSWORD_HASH", FAST_HASH)
    return create_app({"TESTING": True, **config}, lp)


@pytest.fixture
def client(demo):
    return make_app(demo[0]).test_client()


def csrf_token(client):
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf_token"]


def log_in(client, password=PASSWORD):
    response = client.post("/login", data={"password": password, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.data
    with client.session_transaction() as session:
        return session["csrf_token"]


def post(client, url, token, body=None):
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return client.post(url, json=body or {}, headers=headers)


# -- reading -------------------------------------------------------------------
def test_summary_counts_fireworks_and_workflows_by_state(client, demo):
    data = client.get("/api/summary").get_json()
    assert list(data["fireworks"]) == list(DISPLAY_ORDER)
    assert data["fireworks"]["FIZZLED"] == 1 and data["fireworks"]["COMPLETED"] == 2
    assert data["fireworks"]["RUNNING"] == 1
    assert data["total_fireworks"] == 8 + 3 * 3
    assert data["workflows"]["FIZZLED"] == 1 and data["workflows"]["READY"] == 3
    assert [fw["fw_id"] for fw in data["recent_fizzled"]] == [demo[1][3]]
    assert {wf["name"] for wf in data["recent_workflows"]} >= {"semiconductor band gaps"}


@pytest.mark.parametrize(
    "args, names",
    [
        ("", None),
        ("state=FIZZLED", ["semiconductor band gaps"]),
        ("name=convergence+test+1", ["convergence test 1"]),
        ("q=RELAX", ["semiconductor band gaps"]),  # a firework's name, any case
        ("q=convergence&sort=name", ["convergence test 0", "convergence test 1", "convergence test 2"]),
        ("query=%7B%22metadata.project%22%3A+%22gaps%22%7D", ["semiconductor band gaps"]),
        (
            "query=%7B%22wf_id%22%3A+%7B%22%24gt%22%3A+2%7D%7D&sort=oldest",
            ["convergence test 1", "convergence test 2"],
        ),
    ],
)
def test_workflow_list_filters(client, args, names):
    data = client.get(f"/api/workflows?{args}").get_json()
    if names is None:
        assert data["total"] == 4 and len(data["items"]) == 4
    else:
        assert [wf["name"] for wf in data["items"]] == names
        assert data["total"] == len(names)


def test_workflow_list_paginates(client):
    first = client.get("/api/workflows?per_page=3").get_json()
    second = client.get("/api/workflows?per_page=3&page=2").get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (4, 2, 3)
    assert len(second["items"]) == 1
    assert {w["wf_id"] for w in first["items"]}.isdisjoint(w["wf_id"] for w in second["items"])
    by_state = client.get("/api/workflows?state=READY&per_page=2&page=2").get_json()
    assert (by_state["total"], len(by_state["items"])) == (3, 1)


@pytest.mark.parametrize(
    "args",
    [
        "query=%7B%22%24where%22%3A+%22sleep(1000)%22%7D",
        "query=%7B%22%24and%22%3A+%5B%7B%22name%22%3A+%7B%22%24function%22%3A+1%7D%7D%5D%7D",
        "query=%7B%22%24expr%22%3A+%7B%22%24accumulator%22%3A+%7B%7D%7D%7D",
        "query=%7Bnot+json",
        "query=%5B1%2C+2%5D",
        "state=BURNING",
        "page=two",
        "sort=random",
    ],
)
def test_bad_queries_are_refused(client, args):
    response = client.get(f"/api/workflows?{args}")
    assert response.status_code == 400
    assert response.get_json()["type"] == "InvalidQueryError"
    assert response.get_json()["error"]


def test_graph_has_every_node_placed_left_of_its_children(client, demo):
    ids = demo[1]
    graph = client.get("/api/workflows/1/graph").get_json()
    assert graph["too_large"] is False
    nodes = {n["fw_id"]: n for n in graph["nodes"]}
    assert set(nodes) == set(ids.values())
    assert nodes[ids[3]]["state"] == "FIZZLED"
    assert len(graph["edges"]) == 9 and graph["groups"] == []
    for parent, child, links in graph["edges"]:  # small workflows: one link per edge, no groups
        assert nodes[parent]["x"] < nodes[child]["x"] and links == 1
    assert graph["width"] >= max(n["x"] for n in nodes.values()) + graph["node_width"]


def test_large_workflows_get_a_summary_instead_of_a_graph(demo):
    client = make_app(demo[0], STARSHELL_DAG_LIMIT=5).test_client()
    graph = client.get("/api/workflows/1/graph").get_json()
    assert graph["too_large"] is True and graph["nodes"] == [] and graph["total"] == 8
    assert graph["states"]["FIZZLED"] == 1
    states = client.get("/api/workflows/1/states").get_json()
    assert "fireworks" not in states and states["total"] == 8


def test_states_map_every_firework_for_live_refresh(client, demo):
    states = client.get("/api/workflows/1/states").get_json()
    assert states["state"] == "FIZZLED"
    assert states["fireworks"][str(demo[1][3])] == "FIZZLED"
    assert len(states["fireworks"]) == 8


def test_workflow_fireworks_page_by_state(client):
    data = client.get("/api/workflows/1/fireworks?state=WAITING&per_page=2").get_json()
    assert (data["total"], data["pages"], len(data["items"])) == (3, 2, 2)
    assert all(row["state"] == "WAITING" for row in data["items"])


def test_firework_shows_launch_details_traceback_and_tails(client, demo):
    fw = client.get(f"/api/fireworks/{demo[1][3]}").get_json()
    assert fw["state"] == "FIZZLED" and fw["tasks"][0]["_fw_name"] == "ScriptTask"
    assert "_tasks" not in fw["spec"] and fw["spec"]["material"] == "Ge"
    (launch,) = fw["launches"]
    assert launch["host"] == "node042" and launch["launch_dir"].endswith("launch_relax_ge")
    assert launch["runtime_secs"] >= 0
    assert "SCF did not converge" in launch["exception"]["traceback"]
    files = {f["name"]: f for f in launch["files"]}
    assert set(files) == {"FW_job.error", "FW_job.out"}
    assert files["FW_job.out"]["text"].splitlines()[-1].startswith("relax Ge: SCF step  60")
    done = client.get(f"/api/fireworks/{demo[1][2]}").get_json()
    assert done["launches"][0]["stored_data"] == {"energy_eV": -10.84}


def test_only_the_newest_launches_have_their_files_read(demo, tmp_path):
    lp, ids = demo
    lp.rerun_fw(ids[3])
    record_launch(lp, ids[3], "FIZZLED", str(tmp_path / "again"), exception={"message": "again"})
    newest, older = data.firework(lp, ids[3], tailed_launches=1)["launches"]
    assert newest["launch_dir"].endswith("again") and newest["files"]
    assert older["files"] == [] and older["exception"]["traceback"]


def test_unknown_ids_are_404(client):
    for url in (
        "/api/fireworks/999",
        "/api/workflows/999",
        "/api/workflows/999/graph",
        "/api/launches/999/files/FW_job.out",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "999" in response.get_json()["error"]


# -- file tails ------------------------------------------------------------------
def launch_dir_of(client, fw_id):
    return client.get(f"/api/fireworks/{fw_id}").get_json()["launches"][0]


def test_file_tail_returns_the_last_lines(client, demo):
    launch = launch_dir_of(client, demo[1][3])
    data = client.get(f"/api/launches/{launch['launch_id']}/files/FW_job.out?lines=2").get_json()
    assert data["text"].count("\n") == 1 and data["truncated"] is True
    assert data["text"].endswith("SCF step  60  dE = 1.000e-05 eV")


@pytest.mark.parametrize(
    "name",
    [
        "../secret.out",
        "..%2Fsecret.out",
        "%2Fetc%2Fpasswd",
        "sub%2F..%2F..%2Fsecret.out",
        "..",
        "FW.json",
        "escape.out",
    ],
)
def test_path_traversal_is_refused(client, demo, tmp_path, name):
    launch = launch_dir_of(client, demo[1][3])
    secret = tmp_path / "launches" / "secret.out"
    secret.write_text("top secret\n")
    (tmp_path / "outside.log").write_text("also secret\n")
    os.symlink(tmp_path / "outside.log", os.path.join(launch["launch_dir"], "escape.out"))
    response = client.get(f"/api/launches/{launch['launch_id']}/files/{name}", follow_redirects=True)
    assert response.status_code in (403, 404)
    assert b"secret" not in response.data.replace(b"secret.out", b"")


def test_symlinks_leaving_the_launch_dir_are_not_listed(client, demo, tmp_path):
    launch = launch_dir_of(client, demo[1][3])
    (tmp_path / "outside.log").write_text("secret\n")
    os.symlink(tmp_path / "outside.log", os.path.join(launch["launch_dir"], "escape.log"))
    files = launch_dir_of(client, demo[1][3])["files"]
    assert "escape.log" not in [f["name"] for f in files]


# -- actions and their guards -------------------------------------------------------
def test_unauthenticated_post_is_refused(client, demo):
    token = csrf_token(client)
    response = post(client, f"/api/fireworks/{demo[1][3]}/rerun", token)
    assert response.status_code == 401
    assert client.get(f"/api/fireworks/{demo[1][3]}").get_json()["state"] == "FIZZLED"


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_bad_csrf_token_is_refused_even_when_logged_in(client, demo, token):
    log_in(client)
    response = post(client, f"/api/fireworks/{demo[1][3]}/rerun", token)
    assert response.status_code == 403
    assert "CSRF" in response.get_json()["error"]
    assert client.get(f"/api/fireworks/{demo[1][3]}").get_json()["state"] == "FIZZLED"


def test_csrf_token_of_another_session_is_refused(demo):
    app = make_app(demo[0])
    other = log_in(app.test_client())
    client = app.test_client()
    log_in(client)
    assert post(client, f"/api/fireworks/{demo[1][3]}/rerun", other).status_code == 403


def test_rerun_resets_the_firework_and_its_descendants(client, demo):
    ids = demo[1]
    token = log_in(client)
    response = post(client, f"/api/fireworks/{ids[3]}/rerun", token)
    assert response.status_code == 200
    assert response.get_json()["changed"] == sorted([ids[3], ids[6], ids[8]])
    states = client.get("/api/workflows/1/states").get_json()["fireworks"]
    assert states[str(ids[3])] == "READY" and states[str(ids[6])] == "WAITING"


def test_each_single_action_changes_state(client, demo):
    fw = demo[1][5]  # READY
    token = log_in(client)
    for action, state in [
        ("pause", "PAUSED"),
        ("resume", "READY"),
        ("defuse", "DEFUSED"),
        ("reignite", "READY"),
    ]:
        assert post(client, f"/api/fireworks/{fw}/{action}", token).status_code == 200, action
        assert client.get(f"/api/fireworks/{fw}").get_json()["state"] == state


def test_illegal_transition_is_409(client, demo):
    token = log_in(client)
    response = post(client, f"/api/fireworks/{demo[1][5]}/resume", token)
    assert response.status_code == 409
    error = response.get_json()["error"]  # names the state and what would work instead
    assert "is READY: resume is not possible" in error and "pause" in error


def test_priority_is_set_and_validated(client, demo):
    fw = demo[1][6]
    token = log_in(client)
    assert post(client, f"/api/fireworks/{fw}/priority", token, {"priority": 7}).status_code == 200
    assert client.get(f"/api/fireworks/{fw}").get_json()["spec"]["_priority"] == 7
    assert post(client, f"/api/fireworks/{fw}/priority", token, {"priority": "2.5"}).status_code == 200
    assert client.get(f"/api/fireworks/{fw}").get_json()["spec"]["_priority"] == 2.5
    for bad in ("high", None, True, [1], "inf", "nan"):
        assert post(client, f"/api/fireworks/{fw}/priority", token, {"priority": bad}).status_code == 400
    assert post(client, f"/api/fireworks/{fw}/explode", token).status_code == 400


def test_selection_applies_to_each_and_reports_refusals(client, demo):
    ids = demo[1]
    token = log_in(client)
    # pause: the WAITING ones change, the COMPLETED one is refused (a COMPLETED firework can be
    # defused, as in FireWorks, but not paused)
    response = post(client, "/api/actions", token, {"action": "pause", "fw_ids": [ids[2], ids[6], ids[7]]})
    data = response.get_json()
    assert response.status_code == 200
    assert data["changed"] == sorted([ids[6], ids[7]])
    assert [f["fw_id"] for f in data["failed"]] == [ids[2]] and data["failed"][0]["status"] == 409
    refused = post(client, "/api/actions", token, {"action": "resume", "fw_ids": [ids[2]]})
    assert refused.status_code == 409 and refused.get_json()["changed"] == []
    prio = post(
        client, "/api/actions", token, {"action": "priority", "fw_ids": [ids[7], ids[8]], "priority": 3}
    )
    assert prio.get_json()["changed"] == sorted([ids[7], ids[8]])


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "rerun"},
        {"action": "rerun", "fw_ids": []},
        {"action": "rerun", "fw_ids": ["1"]},
        {"action": "nuke", "fw_ids": [1]},
        {"action": "priority", "fw_ids": [1], "priority": "x"},
    ],
)
def test_bad_selection_requests_are_400(client, body):
    token = log_in(client)
    assert post(client, "/api/actions", token, body).status_code == 400


def test_read_only_mode_refuses_every_action(demo):
    client = make_app(demo[0], STARSHELL_READ_ONLY=True).test_client()
    token = csrf_token(client)
    client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    response = post(client, f"/api/fireworks/{demo[1][3]}/rerun", token)
    assert response.status_code == 403 and "read-only" in response.get_json()["error"]
    assert client.get("/api/session").get_json() == {
        "mode": "read-only",
        "logged_in": False,
        "can_act": False,
        "refresh_seconds": 5,
    }


def test_without_password_the_gui_is_read_only(demo):
    client = create_app({"TESTING": True}, demo[0]).test_client()
    token = csrf_token(client)
    response = post(client, f"/api/fireworks/{demo[1][3]}/rerun", token)
    assert response.status_code == 403 and "--password-file" in response.get_json()["error"]
    assert client.get("/api/session").get_json()["mode"] == "no-password"


def test_wrong_password_does_not_log_in(client, demo):
    token = csrf_token(client)
    assert client.post("/login", data={"password": "guess", "csrf_token": token}).status_code == 401
    assert post(client, f"/api/fireworks/{demo[1][3]}/rerun", token).status_code == 401


def test_logout_ends_the_session(client, demo):
    token = log_in(client)
    assert client.get("/api/session").get_json()["can_act"] is True
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/session").get_json()["logged_in"] is False
    assert post(client, f"/api/fireworks/{demo[1][3]}/rerun", token).status_code == 403


def test_get_requests_cannot_change_anything(client, demo):
    log_in(client)
    assert client.get(f"/api/fireworks/{demo[1][3]}/rerun").status_code == 405
