"""FWAction semantics applied by the LaunchPad, on both stores."""

from test_launchpad import Noop, diamond, run_one, states

from launchpad import FiretaskBase, Firework, FWAction, Workflow


def chain(n=3):
    fws = [Firework(Noop(), fw_id=1, name="fw1")]
    for i in range(2, n + 1):
        fws.append(Firework(Noop(), fw_id=i, name=f"fw{i}", parents=[fws[-1]]))
    return Workflow(fws)


def spec_of(lp, fw_id):
    return lp.get_fw_dict(fw_id)["spec"]


def test_update_spec_reaches_children_only(lp):
    lp.add_wf(chain(3))
    run_one(lp, FWAction(update_spec={"a": 1}, stored_data={"out": 5}))
    assert spec_of(lp, 2)["a"] == 1 and "a" not in spec_of(lp, 3)
    launch = lp.get_fw_dict(1)["launches"][0]
    assert launch["action"]["stored_data"] == {"out": 5}


def test_propagate_reaches_all_descendants(lp):
    lp.add_wf(chain(4))
    run_one(lp, FWAction(update_spec={"a": 1}, propagate=True))
    assert all(spec_of(lp, i)["a"] == 1 for i in (2, 3, 4))


def test_mod_spec_operators(lp):
    lp.add_wf(chain(2))
    run_one(
        lp,
        FWAction(mod_spec=[{"_push": {"results": 1}}, {"_inc": {"count": 2}}, {"_set": {"deep->key": "v"}}]),
    )
    spec = spec_of(lp, 2)
    assert spec["results"] == [1] and spec["count"] == 2 and spec["deep"] == {"key": "v"}


def test_fan_in_collects_pushes_from_every_parent(lp):
    lp.add_wf(diamond())
    for value in (10, 20, 30):
        run_one(lp, FWAction(mod_spec=[{"_push": {"vals": value}}]))
    assert sorted(spec_of(lp, 4)["vals"]) == [20, 30]
    assert states(lp)[4] == "READY"


def test_additions_become_children_and_run(lp):
    lp.add_wf(chain(2))
    extra = Workflow(
        [Firework(Noop(), fw_id=1, name="new1"), Firework(Noop(), fw_id=2, name="new2", parents=[])]
    )
    run_one(lp, FWAction(additions=[extra]))
    s = states(lp)
    assert s[2] == "READY" and s[3] == "READY" and s[4] == "READY"
    assert sorted(lp.get_fw_dict(1)["children"]) == [2, 3, 4]
    assert lp.get_fw_dict(3)["parents"] == [1]
    assert lp.wf_id_of(3) == lp.wf_id_of(1)
    for _ in range(3):
        run_one(lp)
    assert lp.get_wf_summaries()[0]["state"] == "COMPLETED"


def test_detours_run_before_the_original_children(lp):
    lp.add_wf(chain(2))
    detour = Workflow([Firework(Noop(), fw_id=1, name="d1"), Firework(Noop(), fw_id=2, name="d2")])
    run_one(lp, FWAction(detours=[detour]))
    assert states(lp) == {1: "COMPLETED", 2: "WAITING", 3: "READY", 4: "READY"}
    assert sorted(lp.get_fw_dict(2)["parents"]) == [1, 3, 4]
    run_one(lp)
    assert states(lp)[2] == "WAITING"
    run_one(lp)
    assert states(lp)[2] == "READY"


def test_defuse_children_and_workflow(lp):
    lp.add_wf(diamond())
    run_one(lp, FWAction(defuse_children=True))
    assert states(lp) == {1: "COMPLETED", 2: "DEFUSED", 3: "DEFUSED", 4: "WAITING"}
    lp.add_wf(diamond())
    run_one(lp, FWAction(defuse_workflow=True))
    assert [states(lp)[i] for i in (5, 6, 7, 8)] == ["COMPLETED", "DEFUSED", "DEFUSED", "DEFUSED"]


def test_append_wf_as_child_and_as_detour(lp):
    lp.add_wf(chain(2))
    lp.append_wf(Firework(Noop(), name="late child"), [2])
    assert states(lp)[3] == "WAITING"
    run_one(lp)
    lp.append_wf(Firework(Noop(), name="detour"), [1], detour=True)
    assert states(lp)[2] == "WAITING" and states(lp)[4] == "READY"
    run_one(lp), run_one(lp), run_one(lp)
    assert set(states(lp).values()) == {"COMPLETED"}


class Grower(FiretaskBase):
    """A task that extends its own workflow until n reaches a limit."""

    _fw_name = "Test Grower"

    def run_task(self, fw_spec):
        n = fw_spec.get("n", 0)
        if n >= 5:
            return FWAction(stored_data={"n": n})
        return FWAction(additions=[Firework(Grower(), spec={"n": n + 1})])


def test_workflow_grows_itself(lp):
    lp.add_wf(Firework(Grower(), spec={"n": 0}))
    while True:
        fw, launch_id = lp.claim_to_run()
        if fw is None:
            break
        action = Grower().run_task(fw["spec"])
        lp.complete_launch(launch_id, action, fw_id=fw["fw_id"])
    assert lp.get_wf_summaries()[0]["nodes"] == 6
    assert set(states(lp).values()) == {"COMPLETED"}


def test_an_action_that_cannot_apply_fizzles_the_firework(lp):
    lp.add_wf(chain(2))
    lp.update_spec([2], {"x": 5})
    fw, launch_id = lp.claim_to_run()
    lp.complete_launch(
        launch_id, FWAction(mod_spec=[{"_push": {"x": 1}}], stored_data={"kept": 1}), fw_id=fw["fw_id"]
    )
    assert states(lp) == {1: "FIZZLED", 2: "WAITING"}
    launch = lp.get_launch(launch_id)
    assert "could not be applied" in launch["exception"]["message"]
    assert launch["action"]["stored_data"] == {"kept": 1}
    assert spec_of(lp, 2)["x"] == 5


def test_several_detours_run_side_by_side(lp):
    lp.add_wf(chain(2))
    run_one(lp, FWAction(detours=[Firework(Noop(), name="A"), Firework(Noop(), name="B")]))
    assert states(lp) == {1: "COMPLETED", 2: "WAITING", 3: "READY", 4: "READY"}
    assert lp.get_fw_dict(3)["parents"] == [1] and lp.get_fw_dict(4)["parents"] == [1]
    assert sorted(lp.get_fw_dict(2)["parents"]) == [1, 3, 4]
