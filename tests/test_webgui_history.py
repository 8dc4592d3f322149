"""The fireworks page, the "Over time" data and the workflow timeline, through
Flask's test client on every store backend, over a recorded launch history."""

from datetime import datetime, timedelta, timezone

import pytest

from webgui import create_app
from webgui.colors import DARK_CARD, DARK_STATE_COLORS, STATE_COLORS
from webgui.demo_history import ERRORS, HOSTS, build_history

END = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def history(lp):
    """Eight workflows run over the 30 hours before END; the GUI's clock is END."""
    built = build_history(lp, workflows=8, hours=30, end=END)
    lp.clock = lambda: END
    return lp, built


@pytest.fixture
def client(history):
    return create_app({"TESTING": True}, history[0]).test_client()


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.data[:300]
    return response.get_json()


# -- the fireworks page ----------------------------------------------------------
def test_fizzled_fireworks_come_with_their_error_message(client, history):
    lp, built = history
    page = get(client, "/api/fireworks?state=FIZZLED")
    assert sorted(row["fw_id"] for row in page["items"]) == sorted(built["fizzled"])
    assert page["total"] == len(built["fizzled"]) > 0
    assert all(row["error"] in ERRORS and row["host"] in HOSTS for row in page["items"])


def test_filters_by_workflow_name_host_and_date(client, history):
    lp, built = history
    wf_id = built["workflows"][2]
    rows = get(client, f"/api/fireworks?wf_id={wf_id}")["items"]
    assert {r["wf_id"] for r in rows} == {wf_id} and len(rows) == 4
    rows = get(client, "/api/fireworks?name=PHONONS")["items"]
    assert len(rows) == 8 and all(r["name"].startswith("phonons") for r in rows)
    on_gpu = {d["fw_id"] for d in lp.get_launches({"host": "gpu01"}, fields=["fw_id"])}
    rows = get(client, "/api/fireworks?host=GPU&per_page=200")["items"]
    assert {r["fw_id"] for r in rows} == on_gpu and on_gpu
    day = (END - timedelta(days=1)).date().isoformat()
    rows = get(client, f"/api/fireworks?since={day}&until={day}&per_page=200")["items"]
    assert rows and all(r["updated_on"].startswith(day) for r in rows)
    rows = get(client, f"/api/fireworks?until={day}&since={day}&state=COMPLETED&per_page=200")["items"]
    assert all(r["state"] == "COMPLETED" and r["updated_on"].startswith(day) for r in rows)


def test_sorted_and_paginated(client):
    first = get(client, "/api/fireworks?sort=id&per_page=5")
    second = get(client, "/api/fireworks?sort=id&per_page=5&page=2")
    assert first["total"] == 32 and first["pages"] == 7
    ids = [r["fw_id"] for r in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 10
    newest = [r["updated_on"] for r in get(client, "/api/fireworks")["items"]]
    assert newest == sorted(newest, reverse=True)


def test_bad_filters_are_refused_with_a_message(client):
    assert "date like" in get(client, "/api/fireworks?since=yesterday", 400)["error"]
    assert "unknown sort" in get(client, "/api/fireworks?sort=colour", 400)["error"]
    page = client.get("/fireworks?state=BURNING")
    assert page.status_code == 400 and b"unknown state" in page.data


def test_the_page_lists_failures_and_the_dashboard_links_to_it(client, history):
    html = client.get("/fireworks?state=FIZZLED").get_data(as_text=True)
    for fw_id in history[1]["fizzled"]:
        assert f'data-fw-id="{fw_id}"' in html
    assert 'class="row-error"' in html
    dashboard = client.get("/").get_data(as_text=True)
    assert 'href="/fireworks?state=FIZZLED"' in dashboard


def test_dashboard_workflow_counts_follow_every_change(client, history):
    """The dashboard keeps its workflow counts between changes, never across one."""
    lp, built = history

    def shown_and_true():
        shown = get(client, "/api/summary")["workflows"]
        return shown, {state: lp.wf_state_counts().get(state, 0) for state in shown}

    before, truth = shown_and_true()
    assert before == truth and before["FIZZLED"] > 0
    lp.rerun_fw(built["fizzled"][0])  # the clock stands still: only the counts tell
    after, truth = shown_and_true()
    assert after == truth and after["FIZZLED"] == before["FIZZLED"] - 1
    lp.delete_wf(built["fizzled"][1])
    after, truth = shown_and_true()
    assert after == truth and sum(after.values()) == sum(before.values()) - 1


def test_workflow_list_by_state_follows_every_change(client, history):
    """The ids in a state are kept between changes (paging through them), never across one."""
    lp, built = history

    def listed(state):
        return [row["wf_id"] for row in get(client, f"/api/workflows?state={state}&per_page=200")["items"]]

    fizzled = listed("FIZZLED")
    assert sorted(fizzled) == sorted(lp.get_wf_ids(state="FIZZLED")) and len(fizzled) > 1
    wf_id = lp.wf_id_of(built["fizzled"][0])
    lp.rerun_fw(built["fizzled"][0])  # the clock stands still
    assert wf_id in fizzled and wf_id not in listed("FIZZLED")
    assert listed("FIZZLED") == [w for w in fizzled if w != wf_id]


# -- over time ---------------------------------------------------------------------
def test_completions_and_failures_per_hour_and_day(client, history):
    lp, built = history
    hours = get(client, "/api/activity/finished?interval=hours")
    assert len(hours["buckets"]) == 48 and hours["buckets"][-1]["start"] == "2026-11-30T12"
    finished = lp.get_launches({"state": {"$in": ["COMPLETED", "FIZZLED"]}}, fields=["state"])
    assert hours["completed"] + hours["fizzled"] == len(finished)
    assert hours["fizzled"] == len(built["fizzled"])
    days = get(client, "/api/activity/finished?interval=days&count=3")
    assert [b["start"] for b in days["buckets"]] == ["2026-11-28", "2026-11-29", "2026-11-30"]
    assert days["completed"] == hours["completed"]
    get(client, "/api/activity/finished?interval=weeks", 400)


def test_runtimes_by_task_name(client):
    data = get(client, "/api/activity/runtimes")
    tasks = {t["task"]: t for t in data["tasks"]}
    assert set(tasks) == {"ScriptTask", "PyTask"}
    for t in tasks.values():
        assert t["min"] <= t["median"] <= t["p90"] <= t["max"]
        assert len(t["points"]) == t["launches"] > 0
    assert 0.4 * 1500 <= tasks["PyTask"]["median"] <= 1.8 * 1500


def test_runtimes_from_stored_timestamps_of_any_form():
    """The runtime of a launch, whatever form its stored times take (the fast path
    subtracts parsed times; anything else goes through ``epoch``)."""
    from webgui.activity import seconds_between

    assert seconds_between("2026-11-30T01:00:00.250000", "2026-11-30T01:01:00.750000") == 60.5
    assert seconds_between("2026-11-30 01:00:00", "2026-11-30T02:00:00") == 3600
    assert seconds_between("2026-11-30T01:00:00+00:00", "2026-11-30T01:00:30") == 30  # aware and naive
    assert seconds_between(None, "2026-11-30T01:00:30") is None
    assert seconds_between("2026-11-30T01:00:00", "not a time") is None


def test_timeline_puts_each_launch_on_its_host(client, history):
    lp, built = history
    wf_id = built["workflows"][0]
    data = get(client, f"/api/workflows/{wf_id}/timeline")
    fw_ids = set(lp.get_fw_ids({"wf_id": wf_id}))
    assert data["launches"] and {bar["fw_id"] for bar in data["launches"]} <= fw_ids
    assert set(data["hosts"]) == {bar["host"] for bar in data["launches"]} <= set(HOSTS)
    assert all(bar["start"] <= bar["end"] for bar in data["launches"])
    assert data["start"] == min(bar["start"] for bar in data["launches"])
    get(client, "/api/workflows/999/timeline", 404)
    assert client.get(f"/workflows/{wf_id}/timeline").status_code == 200
    assert f'href="/workflows/{wf_id}/timeline"' in client.get(f"/workflows/{wf_id}").get_data(as_text=True)
    assert b"chart.umd.min.js" in client.get("/activity").data


# -- state colours --------------------------------------------------------------------
def contrast(a, b):
    def luminance(colour):
        rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_state_colours_are_readable_on_both_themes():
    assert set(DARK_STATE_COLORS) == set(STATE_COLORS)
    for table in (STATE_COLORS, DARK_STATE_COLORS):
        for state, (fill, ink) in table.items():
            assert contrast(fill, ink) >= 4.5, state  # a badge's text on its fill
    for state, (fill, _) in DARK_STATE_COLORS.items():
        assert contrast(fill, DARK_CARD) >= 3, state  # a bar or dot on the dark card
