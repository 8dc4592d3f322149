"""A firework that took over a duplicate's run (launchpad/duplicates.py) in the web GUI:
its page shows that run as its launch, names whose run it was, and every page and API
call about it answers, on both stores."""

from launchpad import DupeFinderExact, Firework, Workflow
from launchpad.tasks import ScriptTask
from rocket import launch_rocket
from webgui import create_app


def twin(name):
    task = ScriptTask(script="echo same", store_stdout=True)
    child = Firework(ScriptTask(script="true"), name=f"{name} child")
    fw = Firework(task, name=name, spec={"_dupefinder": DupeFinderExact()})
    return Workflow([fw, child], {fw: [child]}, name=name)


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    return response


def every_view_answers(client, lp, fw_id):
    wf_id = lp.wf_id_of(fw_id)
    for url in [
        f"/fireworks/{fw_id}",
        f"/api/fireworks/{fw_id}/actions",
        f"/workflows/{wf_id}",
        f"/api/workflows/{wf_id}/graph",
        f"/api/workflows/{wf_id}/fireworks",
        f"/workflows/{wf_id}/timeline",
        f"/api/workflows/{wf_id}/timeline",
        "/fireworks",
        f"/fireworks?wf_id={wf_id}",
        "/api/fireworks",
        "/api/activity/finished",
        "/api/activity/runtimes",
        "/",
    ]:
        get(client, url)


def test_a_duplicate_that_took_over_a_finished_run_shows_it(lp, tmp_path):
    first = lp.add_wf(twin("original"))
    original = min(first.values())
    while launch_rocket(lp, launch_root=str(tmp_path)) is not None:
        pass
    second = lp.add_wf(twin("copy"))
    copy = min(second.values())
    ran = []
    while (fw_id := launch_rocket(lp, launch_root=str(tmp_path))) is not None:
        ran.append(fw_id)
    assert copy not in ran and lp.get_fw_dict(copy)["state"] == "COMPLETED"
    (taken,) = lp.get_launches({"fw_id": original}, fields=["launch_id"])
    client = create_app({"TESTING": True}, lp).test_client()

    page = get(client, f"/fireworks/{copy}").get_data(as_text=True)
    assert f'data-launch-id="{taken["launch_id"]}"' in page
    assert f'href="/fireworks/{original}">firework {original}</a>, which this firework took over' in page
    assert "same" in page  # the taken run's stored stdout
    original_page = get(client, f"/fireworks/{original}").get_data(as_text=True)
    assert "took over" not in original_page  # its own run is just its launch
    api = get(client, f"/api/fireworks/{copy}").get_json()
    assert [launch["launch_id"] for launch in api["launches"]] == [taken["launch_id"]]
    live = get(client, f"/api/fireworks/{copy}/live").get_json()
    assert live["state"] == "COMPLETED" and live["launch"]["launch_id"] == taken["launch_id"]
    every_view_answers(client, lp, copy)


def test_a_duplicate_following_a_running_run_is_live_on_it(lp, tmp_path):
    lp.add_wf(twin("original"))
    lp.add_wf(twin("copy"))
    fw, launch_id = lp.claim_to_run(launch_dir=str(tmp_path))
    assert launch_rocket(lp, launch_root=str(tmp_path)) is None  # the copy follows the run
    copy = next(d["fw_id"] for d in lp.get_fws({"name": "copy"}, fields=["fw_id"]))
    assert lp.get_fw_dict(copy)["state"] == "RUNNING"
    lp.ping_launch(launch_id)
    client = create_app({"TESTING": True}, lp).test_client()
    live = get(client, f"/api/fireworks/{copy}/live").get_json()
    assert live["running"] and live["launch"]["launch_id"] == launch_id
    assert live["launch"]["fw_id"] == fw["fw_id"] and live["launch"]["runtime_note"] == "so far"
    assert 'id="fw-live"' in get(client, f"/fireworks/{copy}").get_data(as_text=True)
    every_view_answers(client, lp, copy)
