"""The LaunchPad: the one Python API that the CLIs, rockets and web GUI use.

A thin front under FireWorks' method names. The logic lives in plain modules
of functions that take the store and the clock: ``reads``, ``insertion``,
``claims``, ``launch_records``, ``completion``, ``dynamics``, ``transitions``,
``lostruns`` and ``run_queries``. A completion touches only the firework and
its children, never the whole workflow, so its cost does not grow with the
workflow (issue: FireWorks' full refresh).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import (
    claims,
    completion,
    duplicates,
    dynamics,
    fw_queries,
    insertion,
    launch_records,
    lostruns,
    lp_settings,
    offline,
    reads,
    recovery,
    run_queries,
    series,
    transitions,
)
from .config import LaunchpadConfig, config_from_dict, load_config
from .errors import FWValueError, InvalidTransitionError, LockedWorkflowError, ResetRefusedError
from .fw_utilities import get_fw_logger
from .models import Firework, FWAction, Launch, Workflow, as_workflow
from .states import State, check_transition, is_legal
from .stores import open_store
from .stores.base import Doc, Fields, Query, Sort, Store, WorkerFilter
from .timestamps import TIME_FORMAT, cutoff, local_day, system_clock, timestamp

# FireWorks' LazyFirework is what get_wf_by_fw_id_lzyfw's workflow holds; ours loads every
# firework whole in one query, so those are plain Fireworks.
LazyFirework = Firework

S = State


class LaunchPad:
    """Workflows in a store, and every operation on them."""

    def __init__(
        self,
        store: Union[Store, str, None] = None,
        port: Optional[int] = None,
        name: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        logdir: Optional[str] = None,
        strm_lvl: Optional[str] = None,
        user_indices: Optional[list] = None,
        wf_user_indices: Optional[list] = None,
        authsource: Optional[str] = None,
        uri_mode: bool = False,
        mongoclient_kwargs: Optional[dict] = None,
        *,
        host: Optional[str] = None,
        clock: Callable[[], datetime] = system_clock,
        config: Optional[LaunchpadConfig] = None,
    ) -> None:
        """``LaunchPad(store)``, or FireWorks' arguments (``host`` first), which select MongoDB."""
        if isinstance(store, str):
            host = store
        opened = None if isinstance(store, str) else store
        given = {k: v for k, v in locals().items() if k in lp_settings.SETTING_KEYS}
        self.fw_settings = lp_settings.fireworks_settings(**given)
        if opened is None and config is None and lp_settings.selects_mongodb(given):
            config = lp_settings.config_from_settings(self.fw_settings)
        if opened is None:
            config = config or load_config()
            opened = open_store(config)
        self.store: Store = opened
        self.config = config
        self.clock = clock
        self._opened: dict[int, Doc] = {}  # launches this process opened: completions skip a read

    @classmethod
    def from_file(cls, path: Optional[str] = None) -> Any:
        """The LaunchPad that ``my_launchpad.yaml`` (or the default) describes; a file
        naming a gateway gives its client, which offers the rocket's methods and reads."""
        return cls.from_config(load_config(path))

    @classmethod
    def from_config(cls, config: LaunchpadConfig) -> Any:
        """The LaunchPad a LaunchpadConfig describes (the CLIs adjust it, e.g. with
        FW_config.yaml's MONGO_SOCKET_TIMEOUT_MS, before opening)."""
        if config.kind == "gateway":
            from .gateway.client import GatewayLaunchPad

            return GatewayLaunchPad(config, api=cls)
        return cls(open_store(config), config=config)

    auto_load = from_file

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        """FireWorks' ``to_dict`` form (host, port, name, ...) or a launchpad file's."""
        if set(d) <= set(lp_settings.SETTING_KEYS) and d.get("host"):
            return cls(**{k: v for k, v in d.items() if k in lp_settings.SETTING_KEYS})
        return cls.from_config(config_from_dict(dict(d)))

    def to_dict(self) -> dict[str, Any]:
        """FireWorks' form (host, port, name, username, password, ...): passwords in clear text."""
        if self.store.kind == "sqlite":  # the embedded store: a launchpad file naming it
            return {"store": "sqlite", "path": getattr(self.store, "path", None)}
        out = lp_settings.settings_of_config(self.config)
        out.update({k: self.fw_settings[k] for k in lp_settings.LOGGING_KEYS})
        return out

    def to_file(self, filename: str) -> None:
        """Write ``to_dict`` as YAML (or JSON by extension): a file ``from_file`` reads back."""
        lp_settings.write_settings(self.to_dict(), filename)

    def get_logdir(self) -> Optional[str]:
        return self.fw_settings["logdir"]

    @property
    def host(self) -> str:
        """FireWorks' ``lp.host`` (tasks given the LaunchPad read it): MongoDB's host, else
        where the store is (``sqlite:PATH``, ``mongomock:NAME``)."""
        return self.to_dict().get("host") or self.describe()

    @property
    def fireworks(self) -> Any:
        """FireWorks' raw collection (MongoDB only; reads are safe, writes at your risk)."""
        return lp_settings.raw_collection(self.store, "fireworks")

    @property
    def launches(self) -> Any:
        return lp_settings.raw_collection(self.store, "launches")

    @property
    def workflows(self) -> Any:
        return lp_settings.raw_collection(self.store, "workflows")

    @property
    def db(self) -> Any:
        return lp_settings.raw_collection(self.store, "db")

    def now(self) -> str:
        return timestamp(self.clock)

    def describe(self) -> str:
        return self.store.describe()

    def today(self) -> str:
        """The user's local calendar day: the password ``reset`` and deletes ask for."""
        return local_day(self.clock)

    # -- admin -------------------------------------------------------------------
    def reset(
        self, password: Optional[str] = None, require_password: bool = True, max_reset_wo_password: int = 25
    ) -> None:
        """Erase every workflow. Scripts pass today's date (YYYY-MM-DD) as FireWorks does;
        without ``require_password``, only a store of at most ``max_reset_wo_password`` workflows."""
        today = self.today()
        if password != today and not require_password:
            count = self.store.count_workflows()
            if count > max_reset_wo_password:
                raise ResetRefusedError(  # FireWorks' words, which ported tests match
                    f"Password check cannot be overridden since the size of DB ({count} workflows) "
                    f"is greater than the max_reset_wo_password parameter ({max_reset_wo_password})."
                    f" Pass today's date ({today}) as the password."
                )
        elif password != today:
            raise ResetRefusedError(f"Invalid password! Password is today's date: {today}")
        self.store.reset()

    def tuneup(self, full: bool = False) -> list[str]:
        """FireWorks' name: indexes and statistics; ``full`` compacts (downtime only)."""
        return self.store.tuneup(full=full)

    def maintain(
        self, infinite: bool = True, maintain_interval: Optional[float] = None, **options: Any
    ) -> Any:
        """FireWorks' upkeep loop: tuneup, lost runs, safe repairs (see maintenance)."""
        from .maintenance import MAINTAIN_INTERVAL, maintain

        return maintain(self, infinite, maintain_interval or MAINTAIN_INTERVAL, **options)

    # -- adding ------------------------------------------------------------------
    def add_wf(self, wf: Union[Workflow, Firework, Mapping[str, Any]]) -> dict[int, int]:
        """Insert a Workflow (or Firework, or dict); returns ``{file id: store id}``.

        One store write for the whole workflow: all of it lands or none does.
        """
        return insertion.add_workflow(self.store, self.clock, wf)

    def bulk_add_wfs(
        self, wfs: Iterable[Union[Workflow, Firework, Mapping[str, Any]]]
    ) -> list[dict[int, int]]:
        """``add_wf`` for each (FireWorks' name); each one's id map, in order."""
        return [self.add_wf(wf) for wf in wfs]

    def append_wf(
        self,
        new_wf: Union[Workflow, Firework, Mapping[str, Any]],
        fw_ids: Iterable[int],
        detour: Union[bool, Sequence[bool]] = False,
        pull_spec_mods: bool = True,
    ) -> dict[int, int]:
        """Add ``new_wf`` as children of ``fw_ids`` (see dynamics.append_wf)."""
        return dynamics.append_wf(self.store, self.clock, new_wf, fw_ids, detour, pull_spec_mods)

    def plan_action(self, fw: Doc, action: FWAction) -> dict[int, dict]:
        """The children's new specs an FWAction asks for, before anything is written."""
        return dynamics.plan_action(self.store, fw, action)

    def apply_action(
        self, fw: Doc, action: FWAction, now: str, plan: Optional[dict[int, dict]] = None
    ) -> None:
        """Apply a completed firework's FWAction, then release its children."""
        return dynamics.apply_action(self.store, self.clock, fw, action, now, plan)

    def delete_fws(self, fw_ids: Iterable[int], delete_launch_dirs: bool = False) -> dict[str, Any]:
        """Delete fireworks (and their launches); refuses to strand children. See workflow_ops."""
        from .workflow_ops import delete_fws

        return delete_fws(self, fw_ids, delete_launch_dirs)

    def delete_wf(self, fw_id: int, delete_launch_dirs: bool = False) -> int:
        """Remove the workflow, its fireworks and their launches; launch directories
        stay on disk unless ``delete_launch_dirs`` (see workflow_ops.remove_launch_dirs)."""
        wf_id = self.wf_id_of(fw_id)
        if not delete_launch_dirs:
            self.store.delete_workflow(wf_id)
            return wf_id
        from .workflow_ops import delete_wf_and_dirs

        return delete_wf_and_dirs(self, wf_id)["wf_id"]

    # -- reading -----------------------------------------------------------------
    def get_fw_dict(self, fw_id: int, with_launches: bool = True) -> Doc:
        return reads.fw_dict(self.store, fw_id, with_launches)

    def get_fw_dict_by_id(self, fw_id: int) -> Doc:
        """FireWorks' name: the firework's dict with its launch records."""
        return reads.with_archived_launches(self.get_fw_dict(fw_id))

    def get_fw_by_id(self, fw_id: int) -> Firework:
        """A Firework model with its Launch objects (FireWorks' name for it)."""
        return Firework.from_dict(reads.with_archived_launches(self.get_fw_dict(fw_id)))

    def get_fws(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return [reads.shown_priority(d) for d in self.store.find_fireworks(query, fields, sort, limit, skip)]

    def get_fw_ids(
        self,
        query: Query = None,
        sort: Sort = None,
        limit: int = 0,
        count_only: bool = False,
        launches_mode: bool = False,
    ) -> Union[list[int], int]:
        """``launches_mode``: ``query`` is on launch fields; one fw_id per matching launch."""
        return fw_queries.fw_ids(self.store, query, sort, limit, count_only, launches_mode)

    def get_fw_ids_in_wfs(
        self,
        wf_query: Query = None,
        fw_query: Query = None,
        sort: Sort = None,
        limit: int = 0,
        count_only: bool = False,
        launches_mode: bool = False,
    ) -> Union[list[int], int]:
        return fw_queries.fw_ids_in_wfs(
            self.store, wf_query, fw_query, sort, limit, count_only, launches_mode
        )

    def fw_state_counts(self, query: Query = None) -> dict[str, int]:
        return self.store.count_fireworks_by_state(query)

    def get_wf_fw_states(self, wf_id: int) -> list[tuple[int, str]]:
        """``(fw_id, state)`` of each firework of a workflow, by id (what its graph colours)."""
        return self.store.workflow_fw_states(wf_id)

    def get_wf_links(self, wf_id: int) -> list[tuple[int, int]]:
        """``(parent, child)`` of each link of a workflow (what its graph's layout needs)."""
        return self.store.workflow_links(wf_id)

    def get_task_names(self, fw_ids: Iterable[int]) -> dict[int, list[str]]:
        """``{fw_id: its tasks' _fw_name}`` of the fireworks that exist (what runtimes are
        reported under), read without their task lists."""
        return self.store.task_names(fw_ids)

    def wf_id_of(self, fw_id: int) -> int:
        return reads.wf_id_of(self.store, fw_id)

    def get_wf_by_fw_id(self, fw_id: int) -> Workflow:
        """The whole Workflow model holding ``fw_id`` (reads every firework: not for hot paths)."""
        return self.get_wf(self.wf_id_of(fw_id))

    get_wf_by_fw_id_lzyfw = get_wf_by_fw_id  # FireWorks' lazy variant: ours loads in one query

    def get_wf_summary_dict(self, fw_id: int, mode: str = "more") -> Doc:
        """FireWorks' summary of the workflow holding ``fw_id`` (less, more, all, reservations)."""
        return fw_queries.wf_summary_dict(self.store, fw_id, mode)

    def get_wf(self, wf_id: int) -> Workflow:
        """A Workflow model with its fireworks' Launch objects (one query for all launches)."""
        return reads.workflow(self.store, wf_id)

    def get_wf_summaries(
        self,
        query: Query = None,
        state: Optional[str] = None,
        sort: Sort = None,
        limit: int = 0,
        skip: int = 0,
    ) -> list[Doc]:
        """Workflow documents with ``state``, ``states`` (counts) and ``nodes`` added."""
        return reads.wf_summaries(self.store, query, state, sort, limit, skip)

    def get_wf_ids(
        self,
        query: Query = None,
        sort: Sort = None,
        limit: int = 0,
        count_only: bool = False,
        state: Optional[str] = None,
    ) -> Union[list[int], int]:
        """Workflow ids matching ``query`` (FireWorks' signature); ``state``: only those in it."""
        ids = reads.wf_ids(self.store, query, state, sort, limit)
        return len(ids) if count_only else ids

    def wf_state_counts(self, query: Query = None) -> dict[str, int]:
        """``{state: number of workflows}`` from one grouped query over fireworks."""
        return reads.wf_state_counts(self.store, query)

    def count_wfs(self, query: Query = None) -> int:
        return self.store.count_workflows(query)

    def get_launch(self, launch_id: int) -> Doc:
        return reads.launch_doc(self.store, launch_id)

    def get_launch_by_id(self, launch_id: int) -> Launch:
        """A Launch model (FireWorks' name); ``get_launch`` gives the record as a dict."""
        return Launch.from_dict(self.get_launch(launch_id))

    def get_launches(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return self.store.find_launches(query, fields, sort, limit, skip)

    def get_launchdir(self, fw_id: int, launch_idx: int = -1) -> Optional[str]:
        return reads.launch_dir(self.store, fw_id, launch_idx)

    def get_tracker_data(self, fw_id: int) -> list[dict[str, Any]]:
        """``[{"launch_id", "trackers": [Tracker]}]`` (FireWorks' ``get_tracker_data``)."""
        return launch_records.tracker_data(self.store, fw_id)

    # -- running: the rocket's side ---------------------------------------------
    def claim_to_run(
        self,
        worker: Optional[WorkerFilter] = None,
        launch_dir: Optional[str] = "",
        fw_id: Optional[int] = None,
        host: Optional[str] = None,
        ip: Optional[str] = None,
        states: Sequence[str] = (S.READY.value,),
        ping_interval: Optional[float] = None,
    ) -> Tuple[Optional[Doc], Optional[int]]:
        """The rocket's claim: atomically take the best firework this worker may run and
        open a launch, ``(fw_doc, launch_id)`` or ``(None, None)`` (see claims.claim_to_run)."""
        return claims.claim_to_run(
            self.store, self.clock, self._opened, worker, launch_dir, fw_id, host, ip, states, ping_interval
        )

    def checkout_fw(
        self,
        fworker: Any = None,
        launch_dir: Optional[str] = "",
        fw_id: Optional[int] = None,
        host: Optional[str] = None,
        ip: Optional[str] = None,
        state: str = S.RUNNING.value,
    ) -> Tuple[Optional[Firework], Optional[int]]:
        """FireWorks' checkout: ``(Firework, launch_id)`` with its launches, ``(None, None)``
        when nothing is ready; ``claim_to_run`` spares the rocket the Firework's read."""
        doc, launch_id = claims.fireworks_claim(
            self.store, self.clock, self._opened, fworker, launch_dir, fw_id, host, ip, state
        )
        return (None, None) if doc is None else (self.get_fw_by_id(doc["fw_id"]), launch_id)

    def change_launch_dir(self, launch_id: int, launch_dir: Optional[str]) -> None:
        """FireWorks' name for ``set_launch_dir``."""
        self.set_launch_dir(launch_id, launch_dir)

    def mark_fizzled(self, launch_id: int) -> int:
        """End a launch as FIZZLED (FireWorks' ``complete_launch(state="FIZZLED")``)."""
        return self.complete_launch(launch_id, state=S.FIZZLED.value)

    def set_launch_dir(self, launch_id: int, path: Optional[str]) -> None:
        """Record where a launch really runs (None: no directory could be made)."""
        launch_records.set_launch_dir(self.store, launch_id, path)

    def ping_launch(
        self,
        launch_id: int,
        trackers: Optional[Iterable[Any]] = None,
        checkpoint: Optional[dict[str, Any]] = None,
    ) -> bool:
        """Record a heartbeat (with the task checkpoint a rocket sends as a task starts);
        False means the launch was fenced (rerun, defused, lost)."""
        return launch_records.ping_launch(self.store, self.clock, launch_id, trackers, checkpoint)

    def record_tracking(
        self,
        launch_id: int,
        trackers: Optional[Iterable[Any]] = None,
        background_errors: Optional[Iterable[Any]] = None,
    ) -> None:
        """Keep a launch's last tracker tails and its background tasks' failures."""
        launch_records.record_tracking(self.store, launch_id, trackers, background_errors)

    def complete_launch(
        self,
        launch_id: int,
        action: Union[FWAction, Mapping[str, Any], None] = None,
        state: str = S.COMPLETED.value,
        exception: Optional[Mapping[str, Any]] = None,
        fw_id: Optional[int] = None,
    ) -> int:
        """Finish a launch: record its result and apply its FWAction; a fenced launch
        raises StaleLaunchError (see completion.complete_launch)."""
        return completion.complete_launch(
            self.store, self.clock, self._opened, launch_id, action, state, exception, fw_id
        )

    def finish_and_checkout(
        self,
        launch_id: int,
        action: Union[FWAction, Mapping[str, Any], None] = None,
        state: str = S.COMPLETED.value,
        exception: Optional[Mapping[str, Any]] = None,
        fw_id: Optional[int] = None,
        checkout: Optional[Mapping[str, Any]] = None,
    ) -> Tuple[Optional[Doc], Optional[int], Optional[str]]:
        """A rapidfire rocket's result and its next claim (``claim_to_run(**checkout)``) in one
        store transaction: ``(fw_doc, launch_id, stale message or None)`` (see series)."""
        return series.finish_and_checkout(
            self.store,
            lambda: self.complete_launch(launch_id, action, state, exception, fw_id),
            (lambda: self.claim_to_run(**checkout)) if checkout is not None else None,
        )

    def interrupt_launch(
        self,
        launch_id: int,
        fw_id: int,
        requeue: bool = True,
        reason: str = "interrupted",
        walltime: bool = False,
        not_started: bool = False,
    ) -> Optional[str]:
        """A rocket was stopped mid-run: hand the firework back or fizzle it
        (see completion.interrupt_launch). Returns its new state, or None."""
        return completion.interrupt_launch(
            self.store, self.clock, self._opened, launch_id, fw_id, requeue, reason, walltime, not_started
        )

    def run_exists(self, worker: Optional[WorkerFilter] = None) -> bool:
        """Whether anything may still need a rocket (``qlaunch rapidfire``'s test)."""
        return run_queries.run_exists(self.store, worker)

    def future_run_exists(self, fworker: Any = None, lost_after: Optional[float] = None) -> bool:
        """Whether waiting can still bring work for this worker (what ``rlaunch
        rapidfire`` waits for; see run_queries.future_run_exists)."""
        return run_queries.future_run_exists(self.store, self.clock, fworker, lost_after)

    def count_upcoming(
        self,
        worker: Optional[WorkerFilter] = None,
        limit: Optional[int] = None,
        lost_after: Optional[float] = 600.0,
    ) -> int:
        """WAITING children of live runs that this worker may run: pilots to queue already."""
        return run_queries.count_upcoming(self.store, self.clock, worker, limit, lost_after)

    def silent_runs(self, seconds: float) -> list[Tuple[int, int, float]]:
        """``[(fw_id, launch_id, seconds silent)]`` of RUNNING launches without a heartbeat."""
        return run_queries.silent_runs(self.store, self.clock, seconds)

    def activity_mark(self) -> Any:
        """Changes whenever a run starts or ends; one cheap query for idle rockets to poll."""
        return self.store.activity_mark()

    def count_ready(self, worker: Optional[WorkerFilter] = None, limit: Optional[int] = None) -> int:
        """READY fireworks this worker may run (the queue launcher's demand)."""
        return run_queries.count_ready(self.store, self.clock, worker, limit)

    # -- state changes (see transitions) -----------------------------------------
    def defuse_fw(self, fw_id: int, rerun_duplicates: bool = True) -> list[int]:
        """Stop a firework (and so its descendants) from running until reignited;
        ``rerun_duplicates``: the fireworks that shared its run are rerun (duplicates)."""
        return duplicates.defuse_fw(self.store, self.clock, fw_id, rerun_duplicates)

    def reignite_fw(self, fw_id: int) -> list[int]:
        return transitions.reignite_fw(self.store, self.clock, fw_id)

    def pause_fw(self, fw_id: int) -> list[int]:
        return transitions.pause_fw(self.store, self.clock, fw_id)

    def resume_fw(self, fw_id: int) -> list[int]:
        return transitions.resume_fw(self.store, self.clock, fw_id)

    def rerun_fw(
        self,
        fw_id: int,
        rerun_duplicates: bool = True,
        recover_launch: Union[int, str, None] = None,
        recover_mode: Optional[str] = None,
    ) -> list[int]:
        """Reset a firework and every descendant; returns the ids reset. FireWorks' options:
        its duplicates too, and task-level recovery from ``recover_launch`` (see recovery)."""
        return recovery.rerun_fw(
            self.store, self.clock, fw_id, rerun_duplicates, recover_launch, recover_mode
        )

    def get_recovery(self, launch_id: int) -> Optional[dict[str, Any]]:
        """FireWorks' checkpoint of a launch that failed in a task, or None (see recovery)."""
        return recovery.get_recovery(self.store, launch_id)

    def update_spec(
        self, fw_ids: Iterable[int], updates: Mapping[str, Any], mongo: bool = False
    ) -> list[int]:
        """Merge ``updates`` into each firework's spec (``mongo``: a MongoDB update document)."""
        return transitions.update_spec(self.store, self.clock, fw_ids, updates, mongo)

    def set_priority(self, fw_id: int, priority: float) -> list[int]:
        return transitions.set_priority(self.store, self.clock, fw_id, priority)

    def defuse_wf(self, fw_id: int, defuse_all_states: bool = True) -> list[int]:
        """``defuse_all_states`` (FireWorks' option and default): COMPLETED fireworks too,
        rerun first; ``lpad defuse_wflows`` passes False unless told otherwise, as FireWorks'."""
        return transitions.defuse_wf(self.store, self.clock, fw_id, defuse_all_states)

    def pause_wf(self, fw_id: int) -> list[int]:
        return transitions.pause_wf(self.store, self.clock, fw_id)

    def reignite_wf(self, fw_id: int) -> list[int]:
        """Bring back every DEFUSED or PAUSED firework of the workflow."""
        return transitions.reignite_wf(self.store, self.clock, fw_id)

    resume_wf = reignite_wf

    def archive_wf(self, fw_id: int) -> list[int]:
        return transitions.archive_wf(self.store, self.clock, fw_id)

    # -- failure detection -------------------------------------------------------
    def detect_lostruns(
        self,
        expiration_secs: float = 3600,
        fizzle: bool = False,
        rerun: bool = False,
        max_runtime: Optional[float] = None,
        min_runtime: Optional[float] = None,
        refresh: bool = False,
        query: Query = None,
        launch_query: Query = None,
    ) -> lostruns.LostRuns:
        """RUNNING launches silent for ``expiration_secs``, as LostRuns (see lostruns)."""
        return lostruns.detect_lostruns(
            self.store,
            self.clock,
            expiration_secs,
            fizzle,
            rerun,
            max_runtime,
            min_runtime,
            refresh,
            query,
            launch_query,
        )

    # -- queue reservations (see claims) ------------------------------------------
    def claim_for_queue(
        self, worker: Optional[WorkerFilter] = None, launch_dir: str = "", fw_id: Optional[int] = None
    ) -> Tuple[Optional[Doc], Optional[int]]:
        """Claim a READY firework for a queue job not yet submitted (``qlaunch -r``):
        ``(fw_doc, launch_id)`` or ``(None, None)``."""
        return claims.claim_for_queue(self.store, self.clock, worker, launch_dir, fw_id)

    def reserve_fw(
        self,
        fworker: Any = None,
        launch_dir: Optional[str] = "",
        host: Optional[str] = None,
        ip: Optional[str] = None,
        fw_id: Optional[int] = None,
    ) -> Tuple[Optional[Firework], Optional[int]]:
        """FireWorks' reservation: ``(Firework, launch_id)`` or ``(None, None)``."""
        return self.checkout_fw(fworker, launch_dir, fw_id, host, ip, state=S.RESERVED.value)

    def detect_unreserved(
        self, expiration_secs: float = claims.RESERVATION_EXPIRATION_SECS, rerun: bool = False
    ) -> list[int]:
        """Launch ids RESERVED too long (FireWorks' name); ``rerun`` releases their fireworks."""
        return claims.detect_unreserved(self.store, self.clock, expiration_secs, rerun)

    def set_reservation_id(self, launch_id: int, reservation_id: Union[str, int]) -> None:
        claims.set_reservation_id(self.store, launch_id, reservation_id)

    def unreserve_fw(self, fw_id: int) -> int:
        """Give a RESERVED firework back to the pool (its job vanished or was cancelled)."""
        return claims.unreserve_fw(self.store, self.clock, fw_id)

    def get_reservations(self, older_than_secs: Optional[float] = None) -> list[Doc]:
        """Launches still RESERVED (optionally only those older than a limit)."""
        return claims.reservations(self.store, self.clock, older_than_secs)

    def get_fw_ids_by_reservation(self, reservation_id: Union[str, int]) -> list[int]:
        return claims.fw_ids_by_reservation(self.store, reservation_id)

    # -- FireWorks' offline mode (see offline) ---------------------------------------
    def add_offline_run(
        self, launch_id: int, fw_id: Optional[int] = None, name: Optional[str] = None, fworker: Any = None
    ) -> None:
        """Mark a reservation's launch as run by ``rlaunch --offline`` (qlaunch -r does)."""
        offline.add_offline_run(self, launch_id, fw_id, name, fworker)

    def recover_offline(
        self, launch_id: int, ignore_errors: bool = False, print_errors: bool = False
    ) -> Optional[int]:
        """Read an offline run's files into the store; its fw_id if that failed, else None."""
        return offline.recover_offline(self, launch_id, ignore_errors, print_errors)

    def forget_offline(self, launchid_or_fwid: int, launch_mode: bool = True) -> int:
        """Stop recovering a launch's (or, ``launch_mode=False``, a firework's) offline runs."""
        return offline.forget_offline(self, launchid_or_fwid, launch_mode)


__all__ = [
    "LaunchPad",
    "TIME_FORMAT",
    "as_workflow",
    "cutoff",
    "system_clock",
    "InvalidTransitionError",
    "is_legal",
    "check_transition",
    "FWValueError",
    "LockedWorkflowError",
    "LazyFirework",
    "get_fw_logger",
]
