"""User-driven state changes: defuse, pause, rerun, archive, lost runs...

Part of the LaunchPad (a mixin so the facade stays one object). Every
change asks ``states`` first and writes with ``expect`` on the old state,
so a concurrent rocket cannot be overwritten silently. Changing a RUNNING
firework fences its live launch: the late result is refused.
"""

import math

from .errors import InvalidArgumentError, InvalidTransitionError, NotFoundError
from .states import RERUNNABLE, LaunchState, State, check_transition, is_legal

S = State
_DONE = (S.COMPLETED.value,)


class LostRuns(tuple):
    """``(launch_ids, fw_ids)`` of lost runs, unpacked as before; ``spared`` holds the
    silent launches (``launch_id``, ``fw_id``, ``last_ping``, ``ping_interval``) whose
    own heartbeat interval says they may still be alive, left RUNNING."""

    def __new__(cls, launch_ids, fw_ids, spared=()):
        lost = super().__new__(cls, (launch_ids, fw_ids))
        lost.spared = list(spared)
        return lost


def _may_be_alive(launch, now):
    """Whether a healthy rocket could have left this heartbeat: it is younger than two
    of the launch's recorded intervals. Launches without one (older stores, FireWorks
    imports) keep the plain --time rule."""
    from .launchpad import _seconds_between

    interval = launch.get("ping_interval")
    if not isinstance(interval, (int, float)) or interval <= 0:
        return False
    return _seconds_between(launch["last_ping"], now) < 2 * interval


class TransitionsMixin:
    """State commands on fireworks and workflows (mixed into LaunchPad)."""

    # -- helpers -----------------------------------------------------------------
    def _docs(self, fw_ids, fields=("fw_id", "state", "waiting_on", "current_launch")):
        docs = self.store.get_fireworks([int(i) for i in fw_ids], fields=list(fields))
        missing = set(int(i) for i in fw_ids) - {d["fw_id"] for d in docs}
        if missing:
            raise NotFoundError(f"no firework with id {', '.join(map(str, sorted(missing)))}")
        return docs

    def _reset_state(self, doc):
        return S.READY.value if doc.get("waiting_on", 0) <= 0 else S.WAITING.value

    def _move(self, fw_ids, target, strict=True, reset=False):
        """Move fireworks to ``target`` (or READY/WAITING when ``reset``).

        ``strict`` raises on an illegal move (single-firework commands);
        otherwise illegal ones are skipped (whole-workflow commands).
        Returns the ids that changed.
        """
        now, moved = self.now(), []
        with self.store.transaction():
            for doc in self._docs(fw_ids):
                goal = self._reset_state(doc) if reset else target
                if not is_legal(doc["state"], goal):
                    if strict:
                        check_transition(doc["fw_id"], doc["state"], goal)
                    continue
                changes = {"state": goal, "updated_on": now}
                if doc["state"] == S.RUNNING.value:
                    self._fence(doc)
                    changes["current_launch"] = None
                if self.store.update_fireworks([doc["fw_id"]], changes, expect={"state": doc["state"]}):
                    moved.append(doc["fw_id"])
        return moved

    def _fence(self, doc):
        """Mark the live launch so a late result cannot overwrite the new state."""
        if doc.get("current_launch") is not None:
            self.store.update_launch(
                doc["current_launch"],
                {"state": LaunchState.FENCED.value, "time_end": self.now()},
                expect_state=LaunchState.RUNNING.value,
            )

    def _workflow_fw_ids(self, fw_id):
        wf_id = self.wf_id_of(fw_id)
        return [d["fw_id"] for d in self.store.find_fireworks({"wf_id": wf_id}, ["fw_id"])]

    # -- single fireworks --------------------------------------------------------
    def defuse_fw(self, fw_id):
        """Stop a firework (and so its descendants) from running until reignited."""
        return self._move([fw_id], S.DEFUSED.value)

    def reignite_fw(self, fw_id):
        doc = self._docs([fw_id])[0]
        if doc["state"] != S.DEFUSED.value:
            raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}, not DEFUSED")
        return self._move([fw_id], None, reset=True)

    def pause_fw(self, fw_id):
        return self._move([fw_id], S.PAUSED.value)

    def resume_fw(self, fw_id):
        doc = self._docs([fw_id])[0]
        if doc["state"] != S.PAUSED.value:
            raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}, not PAUSED")
        return self._move([fw_id], None, reset=True)

    def rerun_fw(self, fw_id):
        """Reset a firework and every descendant; returns the ids reset.

        Children wait again for their parents: each firework's count of
        unfinished parents is recomputed from the parents' states.
        """
        doc = self._docs([fw_id], fields=("fw_id", "state"))[0]
        if doc["state"] not in RERUNNABLE:
            raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}; it cannot be rerun")
        from .dag import descendants

        targets = {int(fw_id)} | descendants([int(fw_id)], self._children_of)
        return self._reset_fireworks(targets)

    def _children_of(self, fw_ids):
        return {d["fw_id"]: d["children"] for d in self.store.get_fireworks(fw_ids, ["fw_id", "children"])}

    def _reset_fireworks(self, targets):
        now, changed = self.now(), []
        docs = self.store.get_fireworks(
            sorted(targets), fields=["fw_id", "state", "parents", "current_launch", "spec"]
        )
        outside = {p for d in docs for p in d["parents"]} - targets
        parent_state = {d["fw_id"]: d["state"] for d in self.store.get_fireworks(outside, ["fw_id", "state"])}
        with self.store.transaction():
            for d in docs:
                if d["state"] == S.ARCHIVED.value:
                    continue
                waiting = sum(
                    1
                    for p in d["parents"]
                    if p in targets or not _parent_done(parent_state.get(p), d["spec"])
                )
                goal = S.READY.value if waiting == 0 else S.WAITING.value
                if d["state"] == S.RUNNING.value:
                    self._fence(d)
                self.store.update_fireworks(
                    [d["fw_id"]],
                    {"state": goal, "waiting_on": waiting, "current_launch": None, "updated_on": now},
                )
                changed.append(d["fw_id"])
        return changed

    def update_spec(self, fw_ids, updates, mongo=False):
        """Merge ``updates`` into each firework's spec (dotted keys reach inside).
        ``mongo``: ``updates`` is a MongoDB update document (FireWorks' option),
        limited to the spec and to operators FWAction's mod_spec also has."""
        from .actions import apply_mod

        mods = [{"_set": updates}]
        if mongo:
            from .workflow_ops import mongo_update_to_mods

            mods = mongo_update_to_mods(updates)
        with self.store.transaction():
            docs = self._docs(fw_ids, fields=("fw_id", "spec"))
            for d in docs:
                spec = d["spec"]
                for mod in mods:
                    spec = apply_mod(spec, mod)
                self.store.update_fireworks([d["fw_id"]], {"spec": spec, "updated_on": self.now()})
        return [d["fw_id"] for d in docs]

    def set_priority(self, fw_id, priority):
        if (
            isinstance(priority, bool)
            or not isinstance(priority, (int, float))
            or not math.isfinite(priority)
        ):
            raise InvalidArgumentError(f"priority must be a finite number, got {priority!r}")
        return self.update_spec([fw_id], {"_priority": priority})

    # -- whole workflows (identified by any of their fireworks, as in FireWorks) ---
    def defuse_wf(self, fw_id, defuse_all_states=False):
        """``defuse_all_states`` (FireWorks' option): COMPLETED fireworks too, reset
        first with their descendants, as FireWorks does."""
        ids = self._workflow_fw_ids(fw_id)
        if defuse_all_states:
            for doc in self.store.get_fireworks(ids, ["fw_id", "state"]):
                if doc["state"] == S.COMPLETED.value:
                    self.rerun_fw(doc["fw_id"])
        return self._move(ids, S.DEFUSED.value, strict=False)

    def pause_wf(self, fw_id):
        ids = [
            d["fw_id"]
            for d in self.store.get_fireworks(self._workflow_fw_ids(fw_id), ["fw_id", "state"])
            if d["state"] in (S.WAITING.value, S.READY.value, S.RESERVED.value)
        ]
        return self._move(ids, S.PAUSED.value, strict=False)

    def reignite_wf(self, fw_id):
        """Bring back every DEFUSED or PAUSED firework of the workflow."""
        ids = [
            d["fw_id"]
            for d in self.store.get_fireworks(self._workflow_fw_ids(fw_id), ["fw_id", "state"])
            if d["state"] in (S.DEFUSED.value, S.PAUSED.value)
        ]
        return self._move(ids, None, strict=False, reset=True)

    resume_wf = reignite_wf

    def archive_wf(self, fw_id):
        return self._move(self._workflow_fw_ids(fw_id), S.ARCHIVED.value, strict=False)

    def delete_wf(self, fw_id, delete_launch_dirs=False):
        """Remove the workflow, its fireworks and their launches; launch directories
        stay on disk unless ``delete_launch_dirs`` (see workflow_ops.remove_launch_dirs)."""
        wf_id = self.wf_id_of(fw_id)
        if not delete_launch_dirs:
            self.store.delete_workflow(wf_id)
            return wf_id
        from .workflow_ops import delete_wf_and_dirs

        return delete_wf_and_dirs(self, wf_id)["wf_id"]

    # -- failure detection -------------------------------------------------------
    def detect_lostruns(self, expiration_secs=3600, fizzle=False, rerun=False):
        """RUNNING launches whose last heartbeat is older than ``expiration_secs``.

        A launch that recorded its rocket's heartbeat interval is lost only once its
        heartbeat is also two intervals old: a healthy run's heartbeat can be a whole
        interval old, and a run declared lost runs a second time. Returns LostRuns,
        ``(launch_ids, fw_ids)`` with the launches spared so in ``.spared``. With
        ``fizzle`` the fireworks become FIZZLED, with ``rerun`` READY again; either
        fences the lost launch.
        """
        from .launchpad import cutoff

        silent = self.store.find_launches(
            {"state": S.RUNNING.value, "last_ping": {"$lt": cutoff(self.clock, expiration_secs)}},
            fields=["launch_id", "fw_id", "last_ping", "ping_interval"],
        )
        now = self.now()
        lost, spared = [], []
        for launch in silent:
            (spared if _may_be_alive(launch, now) else lost).append(launch)
        for launch in lost:
            if fizzle or rerun:
                self._declare_lost(launch, rerun)
        return LostRuns(
            [launch["launch_id"] for launch in lost], [launch["fw_id"] for launch in lost], spared
        )

    def _declare_lost(self, launch, rerun):
        now = self.now()
        message = f"lost run: no heartbeat since {launch['last_ping']}"
        with self.store.transaction():
            self.store.update_launch(
                launch["launch_id"],
                {
                    "state": LaunchState.FIZZLED.value,
                    "time_end": now,
                    "exception": {"message": message, "lost": True},
                },
                expect_state=LaunchState.RUNNING.value,
            )
            if rerun:
                fenced = self.store.update_fireworks(
                    [launch["fw_id"]],
                    {"current_launch": None, "updated_on": now},
                    expect={"state": S.RUNNING.value, "current_launch": launch["launch_id"]},
                )
                if fenced:
                    self.rerun_fw(launch["fw_id"])
            else:
                changed = self.store.update_fireworks(
                    [launch["fw_id"]],
                    {"state": S.FIZZLED.value, "updated_on": now},
                    expect={"state": S.RUNNING.value, "current_launch": launch["launch_id"]},
                )
                if changed:
                    fw = self.store.get_firework(
                        launch["fw_id"], ["fw_id", "wf_id", "name", "children", "spec"]
                    )
                    self._release_after_fizzle(fw, now)

    # -- queue reservations ------------------------------------------------------
    def reserve_fw(self, worker=None, launch_dir=""):
        """Claim a READY firework for a queue job not yet submitted (``qlaunch -r``)."""
        from .models import Launch
        from .stores import WorkerFilter

        worker = worker or WorkerFilter()
        now = self.now()
        with self.store.transaction():
            launch_id = self.store.next_ids("launch")
            fw = self.store.claim_firework(
                worker,
                {"state": S.RESERVED.value, "current_launch": launch_id, "updated_on": now},
                not_before=now,
            )
            if fw is None:
                return None, None
            self.store.insert_launch(
                Launch(
                    launch_id=launch_id,
                    fw_id=fw["fw_id"],
                    launch_dir=launch_dir,
                    state=S.RESERVED.value,
                    time_start=now,
                    state_history=[{"state": S.RESERVED.value, "created_on": now}],
                ).to_dict()
            )
        return fw, launch_id

    def set_reservation_id(self, launch_id, reservation_id):
        self.store.update_launch(launch_id, {"reservation_id": str(reservation_id)})

    def unreserve_fw(self, fw_id):
        """Give a RESERVED firework back to the pool (its job vanished or was cancelled)."""
        now = self.now()
        with self.store.transaction():
            doc = self._docs([fw_id])[0]
            if doc["state"] != S.RESERVED.value:
                raise InvalidTransitionError(f"firework {fw_id} is {doc['state']}, not RESERVED")
            if doc.get("current_launch") is not None:
                self.store.update_launch(
                    doc["current_launch"],
                    {"state": LaunchState.CANCELLED.value, "time_end": now},
                    expect_state=LaunchState.RESERVED.value,
                )
            self.store.update_fireworks(
                [doc["fw_id"]],
                {"state": self._reset_state(doc), "current_launch": None, "updated_on": now},
                expect={"state": S.RESERVED.value},
            )
        return doc["fw_id"]

    def get_reservations(self, older_than_secs=None):
        """Launches still RESERVED (optionally only those older than a limit)."""
        query = {"state": S.RESERVED.value}
        if older_than_secs is not None:
            from .launchpad import cutoff

            query["time_start"] = {"$lt": cutoff(self.clock, older_than_secs)}
        return self.store.find_launches(query)

    def get_fw_ids_by_reservation(self, reservation_id):
        return [
            launch["fw_id"]
            for launch in self.store.find_launches({"reservation_id": str(reservation_id)}, fields=["fw_id"])
        ]


def _parent_done(parent_state, child_spec):
    if parent_state in _DONE:
        return True
    return parent_state == S.FIZZLED.value and bool(child_spec.get("_allow_fizzled_parents"))
