"""The LaunchPad: the one Python API that the CLIs, rockets and web GUI use.

It turns user intent (add, rerun, defuse, checkout, complete...) into store
operations, asking ``states`` whether each change is legal. A completion
touches only the firework and its children, never the whole workflow, so
its cost does not grow with the workflow (issue: FireWorks' full refresh).
"""

import functools
import socket
from datetime import datetime, timedelta, timezone

from .actions import FWAction
from .config import load_config
from .dynamics import DynamicsMixin
from .errors import (
    InvalidArgumentError,
    InvalidTransitionError,
    NotFoundError,
    ResetRefusedError,
    StaleLaunchError,
    StarshellError,
)
from .models import Firework, Launch, Workflow
from .serializable import FWSerializable
from .states import LaunchState, State, check_transition, is_legal, workflow_state
from .stores import WorkerFilter, index_fields, open_store
from .trackers import Tracker
from .transitions import TransitionsMixin

S = State
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
# A firework handed back by a pilot's walltime this many times in a row is FIZZLED.
WALLTIME_HANDBACKS_KEY = "_walltime_handbacks"
DEFAULT_WALLTIME_HANDBACKS = 3


def system_clock():
    return datetime.now(timezone.utc)


class LaunchPad(TransitionsMixin, DynamicsMixin):
    """Workflows in a store, and every operation on them."""

    def __init__(self, store=None, clock=system_clock, config=None):
        if store is None:
            config = config or load_config()
            store = open_store(config)
        self.store = store
        self.config = config
        self.clock = clock
        self._opened = {}

    @classmethod
    def from_file(cls, path=None):
        """The LaunchPad that ``my_launchpad.yaml`` (or the default) describes; a file
        naming a gateway gives its client, which offers the rocket's methods and reads."""
        return cls.from_config(load_config(path))

    @classmethod
    def from_config(cls, config):
        """The LaunchPad a LaunchpadConfig describes (the CLIs adjust it, e.g. with
        FW_config.yaml's MONGO_SOCKET_TIMEOUT_MS, before opening)."""
        if config.kind == "gateway":
            from .gateway.client import GatewayLaunchPad

            return GatewayLaunchPad(config)
        return cls(open_store(config), config=config)

    auto_load = from_file

    def now(self):
        return self.clock().strftime(TIME_FORMAT)

    def describe(self):
        return self.store.describe()

    def today(self):
        """The user's local calendar day: the password ``reset`` and deletes ask for."""
        return self.clock().astimezone().strftime("%Y-%m-%d")

    # -- admin -------------------------------------------------------------------
    def reset(self, password=None, require_password=True):
        """Erase every workflow. Scripts pass today's date (YYYY-MM-DD) as FireWorks does."""
        today = self.today()
        if require_password and password != today:
            raise ResetRefusedError(f"reset refused: pass today's date ({today}) as the password")
        self.store.reset()

    def tuneup(self, full=False):
        """FireWorks' name: indexes and statistics; ``full`` compacts (downtime only)."""
        return self.store.tuneup(full=full)

    def maintain(self, infinite=True, maintain_interval=None, **options):
        """FireWorks' upkeep loop: tuneup, lost runs, safe repairs (see maintenance)."""
        from .maintenance import MAINTAIN_INTERVAL, maintain

        return maintain(self, infinite, maintain_interval or MAINTAIN_INTERVAL, **options)

    # -- adding ------------------------------------------------------------------
    def add_wf(self, wf):
        """Insert a Workflow (or Firework, or dict); returns ``{file id: store id}``.

        One store write for the whole workflow: all of it lands or none does.
        """
        wf = as_workflow(wf)
        old_ids = sorted(wf.id_fw)
        first = self.store.next_ids("fw", len(old_ids))
        id_map = {old: first + i for i, old in enumerate(old_ids)}
        wf_id = self.store.next_ids("wf")
        now = self.now()
        docs = self._firework_docs(wf, id_map, wf_id, now)
        self.store.insert_workflow(
            {"wf_id": wf_id, "name": wf.name, "metadata": wf.metadata, "created_on": now, "updated_on": now},
            docs,
        )
        return id_map

    def _firework_docs(self, wf, id_map, wf_id, now, done_parents=()):
        """Store documents for ``wf``'s fireworks; ``done_parents`` are outside parents already done."""
        parents = wf.parent_links()
        docs = []
        for old_id, fw in wf.id_fw.items():
            waiting_on = len(parents[old_id])
            state = (
                fw.state
                if fw.state in (S.DEFUSED.value, S.PAUSED.value)
                else (S.READY.value if waiting_on == 0 else S.WAITING.value)
            )
            spec = _plain_spec_objects(fw.full_spec())
            docs.append(
                {
                    "fw_id": id_map[old_id],
                    "wf_id": wf_id,
                    "name": fw.name,
                    "state": state,
                    "spec": spec,
                    "created_on": now,
                    "updated_on": now,
                    "parents": [id_map[p] for p in parents[old_id]],
                    "children": [id_map[c] for c in wf.links[old_id]],
                    "waiting_on": waiting_on,
                    "current_launch": None,
                    "not_before": None,
                    **index_fields(spec),
                }
            )
        return docs

    def delete_fws(self, fw_ids, delete_launch_dirs=False):
        """Delete fireworks (and their launches); refuses to strand children. See workflow_ops."""
        from .workflow_ops import delete_fws

        return delete_fws(self, fw_ids, delete_launch_dirs)

    # -- reading -----------------------------------------------------------------
    def get_fw_dict(self, fw_id, with_launches=True):
        doc = self.store.get_firework(int(fw_id))
        if doc is None:
            raise NotFoundError(f"no firework with id {fw_id}")
        if with_launches:
            doc["launches"] = self.store.find_launches({"fw_id": doc["fw_id"]})
        return doc

    def get_fw_by_id(self, fw_id):
        """A Firework model with its Launch objects (FireWorks' name for it)."""
        return Firework.from_dict(self.get_fw_dict(fw_id))

    def get_fws(self, query=None, fields=None, sort=None, limit=0, skip=0):
        return self.store.find_fireworks(query, fields, sort, limit, skip)

    def get_fw_ids(self, query=None, sort=None, limit=0, count_only=False):
        if count_only:
            return self.store.count_fireworks(query)
        return [d["fw_id"] for d in self.store.find_fireworks(query, ["fw_id"], sort, limit)]

    def fw_state_counts(self, query=None):
        return self.store.count_fireworks_by_state(query)

    def wf_id_of(self, fw_id):
        doc = self.store.get_firework(int(fw_id), fields=["wf_id"])
        if doc is None:
            raise NotFoundError(f"no firework with id {fw_id}")
        return doc["wf_id"]

    def get_wf_by_fw_id(self, fw_id):
        """The whole Workflow model holding ``fw_id`` (reads every firework: not for hot paths)."""
        return self.get_wf(self.wf_id_of(fw_id))

    def get_wf(self, wf_id):
        """A Workflow model with its fireworks' Launch objects (one query for all launches)."""
        wf_doc = self.store.get_workflow(wf_id)
        if wf_doc is None:
            raise NotFoundError(f"no workflow with id {wf_id}")
        docs = self.store.find_fireworks({"wf_id": wf_id})
        launches = {}
        for launch in self.store.find_launches(
            {"fw_id": {"$in": [d["fw_id"] for d in docs]}}, sort=[("launch_id", 1)]
        ):
            launches.setdefault(launch["fw_id"], []).append(launch)
        fws = [Firework.from_dict({**d, "launches": launches.get(d["fw_id"], [])}) for d in docs]
        links = {d["fw_id"]: d["children"] for d in docs}
        return Workflow(
            fws,
            links,
            name=wf_doc["name"],
            metadata=wf_doc.get("metadata"),
            created_on=wf_doc["created_on"],
            updated_on=wf_doc["updated_on"],
            wf_id=wf_id,
        )

    def get_wf_summaries(self, query=None, state=None, sort=None, limit=0, skip=0):
        """Workflow documents with ``state``, ``states`` (counts) and ``nodes`` added.

        The counts for all listed workflows come from one grouped query.
        """
        if state is None:
            docs = self.store.find_workflows(query, sort=sort, limit=limit, skip=skip)
            counts = self.store.workflow_state_counts([d["wf_id"] for d in docs])
        else:
            docs = self.store.find_workflows(query, sort=sort)
            counts = self.store.workflow_state_counts([d["wf_id"] for d in docs])
            docs = [d for d in docs if workflow_state(counts[d["wf_id"]]) == state]
            docs = docs[skip : skip + limit] if limit else docs[skip:]
        for d in docs:
            c = counts.get(d["wf_id"], {})
            d.update(state=workflow_state(c), states=c, nodes=sum(c.values()))
        return docs

    def wf_state_counts(self, query=None):
        """``{state: number of workflows}`` from one grouped query over fireworks."""
        ids = None if not query else [d["wf_id"] for d in self.store.find_workflows(query, ["wf_id"])]
        totals = {}
        for counts in self.store.workflow_state_counts(ids).values():
            state = workflow_state(counts)
            totals[state] = totals.get(state, 0) + 1
        return totals

    def count_wfs(self, query=None):
        return self.store.count_workflows(query)

    def get_launch(self, launch_id):
        doc = self.store.get_launch(int(launch_id))
        if doc is None:
            raise NotFoundError(f"no launch with id {launch_id}")
        return doc

    def get_launch_by_id(self, launch_id):
        """A Launch model (FireWorks' name); ``get_launch`` gives the record as a dict."""
        return Launch.from_dict(self.get_launch(launch_id))

    def get_launches(self, query=None, fields=None, sort=None, limit=0, skip=0):
        return self.store.find_launches(query, fields, sort, limit, skip)

    def get_launchdir(self, fw_id, launch_idx=-1):
        launches = self.store.find_launches({"fw_id": int(fw_id)}, fields=["launch_dir"])
        if not launches:
            self.wf_id_of(fw_id)  # raises NotFoundError for an unknown id
            raise NotFoundError(f"firework {fw_id} has not been launched yet")
        try:
            return launches[launch_idx]["launch_dir"]
        except IndexError:
            raise NotFoundError(f"firework {fw_id} has no launch number {launch_idx}") from None

    # -- running: the rocket's side ---------------------------------------------
    def checkout_fw(
        self,
        worker=None,
        launch_dir="",
        fw_id=None,
        host=None,
        ip=None,
        states=(S.READY.value,),
        ping_interval=None,
    ):
        """Atomically claim the best firework this worker may run and open a launch.

        Returns ``(fw_doc, launch_id)`` or ``(None, None)`` when nothing fits.
        A RESERVED firework's reservation launch becomes the running launch.
        ``ping_interval`` (the rocket's heartbeat, 0 for none) is recorded on the
        launch, so detect_lostruns knows how old a healthy run's heartbeat can be.
        """
        worker = worker or WorkerFilter()
        ping_interval = heartbeat_interval(ping_interval)
        now = self.now()
        host = host or socket.gethostname()
        ip = ip or _ip_of(host)  # before the write lock: a name lookup may be slow
        with self.store.transaction():
            launch_id = self.store.next_ids("launch")
            fw = self.store.claim_firework(
                worker,
                {"state": S.RUNNING.value, "current_launch": launch_id, "updated_on": now},
                states=states,
                fw_id=fw_id,
                not_before=now,
            )
            if fw is None:
                return None, None
            launch = Launch(
                launch_id=launch_id,
                fw_id=fw["fw_id"],
                host=host,
                ip=ip,
                launch_dir=launch_dir,
                state=LaunchState.RUNNING.value,
                fworker={"name": worker.name, "category": worker.category, "query": worker.query},
                state_history=[{"state": S.RUNNING.value, "created_on": now}],
                time_start=now,
                last_ping=now,
                ping_interval=ping_interval,
            )
            reserved = self._reservation(fw) if S.RESERVED.value in states else None
            if reserved is None:
                self.store.insert_launch(launch.to_dict())
            else:
                launch_id = self._start_reservation(fw, reserved, launch, launch_id)
        if len(self._opened) > 1000:  # launches finished elsewhere must not pile up here
            self._opened.clear()
        self._opened[launch_id] = {"time_start": now, "state_history": launch.state_history}
        return fw, launch_id

    def _reservation(self, fw):
        found = self.store.find_launches(
            {"fw_id": fw["fw_id"], "state": LaunchState.RESERVED.value}, sort=[("launch_id", -1)], limit=1
        )
        return found[0] if found else None

    def _start_reservation(self, fw, reserved, launch, claimed_id):
        """The reservation's launch becomes the running one (as in FireWorks), so it is
        not left RESERVED for ever and keeps its queue id."""
        launch_id = reserved["launch_id"]
        self.store.update_fireworks(
            [fw["fw_id"]], {"current_launch": launch_id}, expect={"current_launch": claimed_id}
        )
        fw["current_launch"] = launch_id
        launch.state_history = reserved.get("state_history", []) + launch.state_history
        changes = {k: v for k, v in launch.to_dict().items() if k not in ("launch_id", "reservation_id")}
        self.store.update_launch(launch_id, changes, expect_state=LaunchState.RESERVED.value)
        return launch_id

    def set_launch_dir(self, launch_id, path):
        """Record where a launch really runs (None: no directory could be made)."""
        self.store.update_launch(launch_id, {"launch_dir": path})

    def ping_launch(self, launch_id, trackers=None):
        """Record a heartbeat; False means the launch was fenced (rerun, defused, lost).

        ``trackers`` (the rocket's latest tails of the spec's ``_trackers``, as
        dicts) ride along in the same write, so a heartbeat stays one write.
        """
        changes = {"last_ping": self.now()}
        if trackers is not None:
            changes["trackers"] = _tracker_records(trackers)
        return self.store.update_launch(launch_id, changes, expect_state=LaunchState.RUNNING.value)

    def record_tracking(self, launch_id, trackers=None, background_errors=None):
        """Keep a launch's last tracker tails and its background tasks' failures.

        The rocket calls it at the end of a run, before the result, whatever
        the launch's state: the tails of a failed or fenced run are what
        someone will want to read.
        """
        changes = {}
        if trackers is not None:
            changes["trackers"] = _tracker_records(trackers)
        if background_errors:
            changes["background_errors"] = list(background_errors)
        if changes:
            self.store.update_launch(int(launch_id), changes)

    def get_tracker_data(self, fw_id):
        """``[{"launch_id", "trackers": [Tracker]}]`` for the firework's launches that track
        files, oldest first (FireWorks' ``get_tracker_data``)."""
        launches = self.store.find_launches(
            {"fw_id": int(fw_id)}, fields=["launch_id", "trackers"], sort=[("launch_id", 1)]
        )
        if not launches:
            self.wf_id_of(fw_id)  # raises NotFoundError for an unknown id
        return [
            {"launch_id": launch["launch_id"], "trackers": [Tracker.from_dict(t) for t in launch["trackers"]]}
            for launch in launches
            if launch.get("trackers")
        ]

    def complete_launch(self, launch_id, action=None, state=S.COMPLETED.value, exception=None, fw_id=None):
        """Finish a launch: record its result and apply its FWAction.

        A launch that was fenced meanwhile (rerun, defused, declared lost)
        raises StaleLaunchError and changes nothing but its own record.
        """
        action = action if isinstance(action, FWAction) else FWAction.from_dict(action or {})
        now = self.now()
        if fw_id is None:
            fw_id = self.get_launch(launch_id)["fw_id"]
        with self.store.transaction():
            fw = self.store.get_firework(fw_id, fields=["fw_id", "wf_id", "name", "children", "spec"])
            plan, action, state, exception = self._vet_result(fw, action, state, exception)
            changed = self.store.update_fireworks(
                [fw_id],
                {"state": state, "updated_on": now},
                expect={"state": S.RUNNING.value, "current_launch": launch_id},
            )
            if not changed and self._cut_short(fw_id, launch_id, state):
                changed = [fw_id]
            if changed:
                self._close_launch(launch_id, state, action, exception, now)
                if plan is not None:
                    self.apply_action(fw, action, now, plan)
                elif not self._retry_later(fw):
                    self._release_after_fizzle(fw, now)
            else:
                self._record_stale(launch_id, state, action, exception, now)
        if not changed:
            raise StaleLaunchError(
                f"launch {launch_id} of firework {fw_id} was fenced (rerun, defused or "
                "declared lost) before it finished; its result was recorded but not applied"
            )
        return fw_id

    def _vet_result(self, fw, action, state, exception):
        """Work out all that can fail before the first write: the children's new specs,
        and whether the store can hold the result at all. A result that cannot be applied
        or stored fizzles the firework with the reason, instead of failing half-way
        through the writes. Returns ``(plan, action, state, exception)``."""
        try:
            self.store.check_storable(action.to_dict())
            if state != S.COMPLETED.value or fw is None:
                return None, action, state, exception
            plan = self.plan_action(fw, action)
            self.store.check_storable(list(plan.values()))
            return plan, action, state, exception
        except StarshellError as exc:
            kept = FWAction(stored_data=action.stored_data)
            try:
                self.store.check_storable(kept.to_dict())
            except StarshellError:
                kept = FWAction()
            problem = {
                "message": f"the task's FWAction could not be applied: {exc}",
                "task_index": None,
                "task_name": None,
            }
            return None, kept, S.FIZZLED.value, exception or problem

    def _cut_short(self, fw_id, launch_id, state):
        """Whether an earlier call for this launch set the firework's state and then
        lost the store (MongoDB has no transactions) before closing the launch: the
        rocket's retry then finishes that completion instead of calling it stale."""
        fw = self.store.get_firework(fw_id, fields=["state", "current_launch"])
        if not fw or fw["state"] != state or fw.get("current_launch") != launch_id:
            return False
        launch = self.store.get_launch(launch_id)
        return launch is not None and launch["state"] == LaunchState.RUNNING.value

    def _retry_later(self, fw):
        """Put a fizzled firework back to READY while its ``_retries`` last.

        ``_retry_delay`` seconds (doubled each attempt, ``_retry_backoff``
        factor) hold it back so a flaky resource gets time to recover.
        """
        retries = fw["spec"].get("_retries") or 0
        if not isinstance(retries, int) or retries <= 0:
            return False
        failures = len(
            self.store.find_launches({"fw_id": fw["fw_id"], "state": S.FIZZLED.value}, fields=["launch_id"])
        )
        if failures > retries:
            return False
        delay = float(fw["spec"].get("_retry_delay", 0) or 0)
        delay *= float(fw["spec"].get("_retry_backoff", 2) or 1) ** (failures - 1)
        not_before = cutoff(self.clock, -delay) if delay > 0 else None
        self.store.update_fireworks(
            [fw["fw_id"]],
            {"state": S.READY.value, "not_before": not_before, "updated_on": self.now()},
            expect={"state": S.FIZZLED.value},
        )
        return True

    def interrupt_launch(
        self, launch_id, fw_id, requeue=True, reason="interrupted", walltime=False, not_started=False
    ):
        """A rocket was stopped (SIGTERM, Ctrl-C, walltime) mid-run.

        The launch is recorded as interrupted, with ``walltime: true`` when the
        batch job's time ran out, and the firework goes back to READY
        (``requeue``) or becomes FIZZLED; never left RUNNING silently. A
        firework the walltime stops ``_walltime_handbacks`` times in a row does
        not fit in its pilots: it is FIZZLED rather than handed back for ever.
        ``not_started``: a pilot gave it back before running it (too little time
        left); the launch is CANCELLED and counts as no attempt.
        Returns the firework's new state, or None if it had moved on already.
        """
        now = self.now()
        exception = {
            "message": reason,
            "interrupted": True,
            "walltime": bool(walltime),
            **({"not_started": True} if not_started else {}),
        }
        with self.store.transaction():
            too_many = self._walltime_give_up(fw_id, launch_id) if requeue and walltime else None
            if too_many:
                requeue, exception["message"] = False, too_many
            state = S.READY.value if requeue else S.FIZZLED.value
            changed = self.store.update_fireworks(
                [fw_id],
                {"state": state, "updated_on": now, **({"current_launch": None} if requeue else {})},
                expect={"state": S.RUNNING.value, "current_launch": launch_id},
            )
            opened = self._opened.pop(launch_id, None) or self.store.get_launch(launch_id) or {}
            self.store.update_launch(
                launch_id,
                {
                    "state": LaunchState.CANCELLED.value if not_started else LaunchState.FIZZLED.value,
                    "time_end": now,
                    "interrupted": True,
                    "walltime": bool(walltime),
                    "handed_back": bool(changed and requeue),
                    "runtime_secs": _seconds_between(opened.get("time_start") or now, now),
                    "exception": exception,
                },
            )
            if changed and not requeue:
                fw = self.store.get_firework(fw_id, fields=["fw_id", "wf_id", "name", "children", "spec"])
                self._release_after_fizzle(fw, now)
        return state if changed else None

    def _walltime_give_up(self, fw_id, launch_id):
        """Why this walltime stop must FIZZLE the firework, or None to hand it back.

        Only stops in a row count: a completion, a failure or a user's Ctrl-C in
        between starts the count again, and so does the FIZZLED that ends a count.
        """
        spec = (self.store.get_firework(fw_id, fields=["spec"]) or {}).get("spec", {})
        limit = spec.get(WALLTIME_HANDBACKS_KEY, DEFAULT_WALLTIME_HANDBACKS)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            limit = DEFAULT_WALLTIME_HANDBACKS
        if limit == 0:
            return None
        earlier = self.store.find_launches(
            {
                "fw_id": int(fw_id),
                "launch_id": {"$lt": int(launch_id)},
                "state": {"$nin": [LaunchState.RESERVED.value, LaunchState.CANCELLED.value]},
            },
            fields=["walltime", "handed_back"],
            sort=[("launch_id", -1)],
            limit=max(limit - 1, 1),
        )
        stops = 1  # this stop; only the limit - 1 launches before it can complete the count
        for launch in earlier:
            if not (launch.get("walltime") and launch.get("handed_back")):
                break
            stops += 1
        if stops < limit:
            return None
        return (
            f"stopped by its pilot job's walltime {stops} times in a row: firework {fw_id} "
            "does not fit in the time its pilots have. Give it more: a longer walltime in "
            "my_qadapter.yaml, or its own job (qlaunch -r with spec._queueadapter.walltime), "
            f"then lpad rerun_fws -i {fw_id} (spec.{WALLTIME_HANDBACKS_KEY} sets how many "
            f"stops in a row are tolerated, default {DEFAULT_WALLTIME_HANDBACKS}; 0: no limit)"
        )

    def run_exists(self, worker=None):
        """Whether anything may still need a rocket: READY fireworks for this worker,
        or RUNNING/RESERVED ones anywhere (their completion may ready others, and a
        walltime may hand them back). ``qlaunch rapidfire`` stops when it is False.

        Fireworks blocked only behind FIZZLED, DEFUSED or PAUSED parents do not
        count, so nothing waits for them for ever (FireWorks #234).
        """
        worker = _worker_filter(worker)
        if self.store.count_fireworks({"state": {"$in": [S.RUNNING.value, S.RESERVED.value]}}):
            return True
        return self.store.count_claimable(worker, limit=1) > 0

    def future_run_exists(self, fworker=None, lost_after=None):
        """Whether waiting can still bring work for this worker (FireWorks' name and
        rule, what ``rlaunch rapidfire`` waits for): a READY firework it may take (a
        retry's delay or not), or a WAITING descendant it may take of a RUNNING or
        RESERVED firework, whose completion starts readying them.

        With ``lost_after`` (seconds) a run silent that long does not count: its
        rocket is probably dead, and waiting for it would keep a pilot idle until
        its walltime. The runs are looked at before the READY fireworks: a run
        that completes in between has readied its children by then.
        """
        worker = _worker_filter(fworker)
        if self.store.count_waiting_descendants(worker, self._live_runs(lost_after), limit=1):
            return True
        return self.store.count_claimable(worker, limit=1) > 0

    def count_upcoming(self, worker=None, limit=None, lost_after=600.0):
        """WAITING children of live RUNNING/RESERVED fireworks that this worker may run:
        work about to become READY, which pilots should be queued for already
        (``lost_after``: ten default heartbeats)."""
        return self.store.count_waiting_descendants(
            _worker_filter(worker), self._live_runs(lost_after), limit=limit, children_only=True
        )

    def silent_runs(self, seconds):
        """RUNNING launches without a heartbeat for ``seconds``, as
        ``[(fw_id, launch_id, seconds silent)]``: rockets that probably died."""
        now = self.now()
        found = self.store.find_launches(
            {"state": S.RUNNING.value, "last_ping": {"$lt": cutoff(self.clock, seconds)}},
            fields=["fw_id", "launch_id", "last_ping"],
        )
        return [
            (launch["fw_id"], launch["launch_id"], _seconds_between(launch["last_ping"], now))
            for launch in found
        ]

    def activity_mark(self):
        """Changes whenever a run starts or ends; one cheap query for idle rockets to poll."""
        return self.store.activity_mark()

    def _live_runs(self, lost_after):
        """RUNNING and RESERVED fireworks, less those silent for ``lost_after`` seconds."""
        active = [
            d["fw_id"]
            for d in self.store.find_fireworks(
                {"state": {"$in": [S.RUNNING.value, S.RESERVED.value]}}, fields=["fw_id"]
            )
        ]
        if active and lost_after is not None:
            silent = {fw_id for fw_id, _, _ in self.silent_runs(lost_after)}
            active = [fw_id for fw_id in active if fw_id not in silent]
        return active

    def count_ready(self, worker=None, limit=None):
        """READY fireworks this worker may run (the queue launcher's demand)."""
        return self.store.count_claimable(worker or WorkerFilter(), limit=limit, not_before=self.now())

    def _close_launch(self, launch_id, state, action, exception, now):
        # Launches this process opened are remembered, saving a read per completion.
        opened = self._opened.pop(launch_id, None)
        if opened is None:
            opened = self.store.get_launch(launch_id)
        runtime = _seconds_between(opened["time_start"], now)
        changes = {
            "state": state,
            "time_end": now,
            "runtime_secs": runtime,
            "action": action.to_dict(),
            "state_history": opened.get("state_history", []) + [{"state": state, "created_on": now}],
        }
        if exception is not None:
            changes["exception"] = exception
        self.store.update_launch(launch_id, changes)

    def _record_stale(self, launch_id, state, action, exception, now):
        self.store.update_launch(
            launch_id,
            {
                "late_result": {
                    "state": state,
                    "action": action.to_dict(),
                    "exception": exception,
                    "received_on": now,
                }
            },
        )


def _plain_spec_objects(spec):
    """``_trackers`` and ``_background_tasks`` given as objects, in their dict form, as
    FireWorks writes them: the store keeps data, and the rocket rebuilds them."""
    for key in ("_trackers", "_background_tasks"):
        if isinstance(spec.get(key), (list, tuple)):
            spec[key] = [x.to_dict() if isinstance(x, FWSerializable) else x for x in spec[key]]
    return spec


def _tracker_records(trackers):
    """Tracker objects or dicts as the launch keeps them: FireWorks' form, vetted."""
    records = []
    for t in trackers:
        t = t if isinstance(t, Tracker) else Tracker.from_dict(t)
        records.append({**t.to_dict(), "content": t.content})
    return records


def as_workflow(wf):
    if isinstance(wf, Workflow):
        return wf
    if isinstance(wf, Firework):
        return Workflow.from_firework(wf)
    if isinstance(wf, dict):
        return Workflow.from_dict(wf)
    raise TypeError(f"expected a Workflow, Firework or dict, got {type(wf).__name__}")


def _worker_filter(worker):
    """A WorkerFilter from None, a WorkerFilter, or a worker (FireWorks passes its FWorker)."""
    if worker is None:
        return WorkerFilter()
    return worker.filter() if callable(getattr(worker, "filter", None)) else worker


def heartbeat_interval(value):
    """A rocket's heartbeat interval as a launch records it. It comes from rlaunch or
    through the gateway, and detect_lostruns does arithmetic with it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise InvalidArgumentError(
            f"ping_interval {value!r} is not a number of seconds: give the rocket's heartbeat "
            "interval (rlaunch --ping_interval), 0 when it sends none"
        )
    return float(value)


def _seconds_between(start, end):
    """Seconds between two store timestamps (fixed format: sliced, not strptime'd)."""

    def parse(ts):
        return datetime(
            int(ts[0:4]),
            int(ts[5:7]),
            int(ts[8:10]),
            int(ts[11:13]),
            int(ts[14:16]),
            int(ts[17:19]),
            int(ts[20:26] or 0),
        )

    return (parse(end) - parse(start)).total_seconds()


@functools.lru_cache(maxsize=64)
def _ip_of(host):
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


def cutoff(clock, seconds):
    """The timestamp ``seconds`` before now, in the store's format."""
    return (clock() - timedelta(seconds=seconds)).strftime(TIME_FORMAT)


__all__ = [
    "LaunchPad",
    "as_workflow",
    "cutoff",
    "system_clock",
    "InvalidTransitionError",
    "is_legal",
    "check_transition",
]
