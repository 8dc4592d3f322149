"""QueueLauncher: keep a batch queue supplied with pilot jobs, never more than the work needs.

A pilot job runs the qadapter's ``rocket_launch`` (``rlaunch ... rapidfire`` by
default) from its own ``launcher_<timestamp>`` directory.  Before each round
the launcher asks the LaunchPad how many READY fireworks this worker may run
and the scheduler how many of our pilots are already queued, and submits only
the difference (FireWorks submits blindly, flooding queues with idle pilots).
Submissions are spaced by ``submit_interval`` and scheduler errors back off.

Clock, sleep and the scheduler's command runner are injected, so tests drive
every loop without waiting or a real Slurm.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, List, Mapping, Optional

from launchpad.errors import ConfigError, InvalidTransitionError, QueueError
from launchpad.offline import add_offline_run, recover_all, recovery_summary
from launchpad.offline_files import start_offline_file, write_fw_json
from launchpad.worker import FWorker

log = logging.getLogger("qlaunch")

SUBMIT_SCRIPT = "FW_submit.script"
JOB_ID_FILE = "FW_job_id"  # the pilot's queue id, so lpad get_qids/cancel_qid find it
# A pilot stops taking new fireworks this long before its walltime ends.
MARGIN_FRACTION = 0.10
MARGIN_CAP = 300
# Back-off after scheduler errors: first pause, doubling up to the cap.
BACKOFF_START = 30.0
BACKOFF_CAP = 600.0
# Between rounds, qlaunch looks this often whether work is left (--nlaunches 0), so it
# ends within seconds of the last firework instead of sleeping out a whole round.
POLL_SECS = 5.0

# ``rlaunch [global options] SUBCOMMAND [its options]`` inside rocket_launch.
_RLAUNCH = re.compile(
    r"(?:^|(?<=[\s;&|(]))(?:\S*/)?(?:rlaunch|rocket\.cli)(?=\s)"
    r"(?:\s+[^\s;&|<>]+)*?"
    r"\s+(?P<sub>singleshot|rapidfire|multi\s+\d+)"
    r"(?P<opts>(?:\s+-[\w-]+(?:=[^\s;&|<>]+|\s+(?!-)[^\s;&|<>]+)?)*)"
)
_NOT_SIMPLE = re.compile(r"[;&|()`\n]")


# -- the pilot's command ----------------------------------------------------------
def stop_margin(walltime: int) -> int:
    """Seconds before the walltime at which a pilot stops pulling work: 10 %, at most 5 min."""
    return max(1, min(int(walltime * MARGIN_FRACTION), MARGIN_CAP))


def signal_lead(walltime: int) -> int:
    """Seconds before the walltime at which Slurm warns the pilot (half the margin)."""
    return max(1, stop_margin(walltime) // 2)


def pilot_command(rocket_launch: str, walltime: Optional[int] = None, fw_id: Optional[int] = None) -> str:
    """The command a pilot runs: ``--timeout`` added to rapidfire, or reservation's singleshot.

    With ``fw_id`` (reservation mode) the rlaunch subcommand and its options
    become ``singleshot --fw_id N``.  Otherwise ``--timeout walltime - margin``
    is added to ``rapidfire``/``multi`` unless the command already has one.
    """
    match = _RLAUNCH.search(rocket_launch)
    if fw_id is not None:
        offline = " --offline" if is_offline(rocket_launch) else ""
        if match is None:
            raise ConfigError(
                f"reservation mode (-r) needs rocket_launch to run rlaunch, e.g. "
                f"'rlaunch -w my_fworker.yaml singleshot' (it becomes 'singleshot --fw_id N'); "
                f"got {rocket_launch!r}"
            )
        return (
            rocket_launch[: match.start("sub")]
            + f"singleshot{offline} --fw_id {fw_id}"
            + rocket_launch[match.end("opts") :]
        )
    if match is None or walltime is None or match["sub"] == "singleshot" or "--timeout" in match["opts"]:
        return rocket_launch
    timeout = walltime - stop_margin(walltime)
    return rocket_launch[: match.end("sub")] + f" --timeout {timeout}" + rocket_launch[match.end("sub") :]


def is_offline(rocket_launch: str) -> bool:
    """Whether the pilot runs ``rlaunch singleshot --offline`` (FireWorks' offline mode)."""
    match = _RLAUNCH.search(str(rocket_launch))
    return bool(match and re.search(r"(?:^|\s)--offline(?=\s|=|$)", match["opts"]))


# The batch shell must outlive the scheduler's SIGTERM (scancel, the walltime):
# when it dies, Slurm kills what is left of the job at once, and rlaunch loses
# the moment it needs to hand its firework back.  A trap (unlike an ignored
# signal) is not inherited, so rlaunch still gets the TERM itself.
SHIELD = "trap : TERM; "


def shield_shell(command: str) -> str:
    """``trap : TERM;`` before an rlaunch command, so the batch shell waits for rlaunch."""
    return SHIELD + command if _RLAUNCH.search(command) else command


def forward_signal(command: str) -> Optional[str]:
    """Wrap a simple rlaunch command so SIGUSR1 to the batch shell reaches it.

    Slurm's ``--signal=B:...`` goes to the batch shell only, and a shell
    waiting on a foreground command neither forwards it nor survives it
    (rlaunch would be killed mid-task).  Running rlaunch in the background
    with a trap hands the signal on; rlaunch takes SIGUSR1 as the walltime
    warning and hands its firework back, counted as a walltime stop (not a
    Ctrl-C).  USR1, not TERM, so that the scheduler's own TERM at the hard
    limit reaches rlaunch once, not twice.  The loop waits until rlaunch has
    really ended (a trap interrupts ``wait``) and keeps its exit status.
    Compound commands and commands other than rlaunch are left alone (None):
    the trap could not reach the process inside, or the program may not
    expect SIGTERM early.
    """
    if _NOT_SIMPLE.search(command) or not _RLAUNCH.search(command):
        return None
    return (
        f"trap 'kill -USR1 $pilot_pid 2>/dev/null' USR1; {SHIELD}{command} & pilot_pid=$!; "
        "while wait $pilot_pid; rc=$?; kill -0 $pilot_pid 2>/dev/null; do :; done; (exit $rc)"
    )


def stamped(prefix: str, now: datetime) -> str:
    return prefix + now.strftime("%Y-%m-%d-%H-%M-%S-%f")


def make_unique_dir(parent: str, prefix: str, now: datetime) -> str:
    """A new ``<prefix><timestamp>`` directory; a suffix keeps two in one microsecond apart."""
    base = os.path.join(parent, stamped(prefix, now))
    path, n = base, 0
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            n += 1
            path = f"{base}_{n}"


def backoff(failures: int, start: float = BACKOFF_START, cap: float = BACKOFF_CAP) -> float:
    """Pause after ``failures`` scheduler errors in a row: start, 2*start, ... cap."""
    return min(start * 2 ** max(failures - 1, 0), cap)


# -- results ---------------------------------------------------------------------
@dataclass
class Submission:
    """One pilot job submitted: its queue id, directory and (reservation mode) firework."""

    job_id: str
    launcher_dir: str
    fw_id: Optional[int] = None
    launch_id: Optional[int] = None


@dataclass
class Round:
    """What one top-up saw and did."""

    ready: int
    queued: int
    wanted: int
    submitted: List[Submission] = field(default_factory=list)
    ready_capped: bool = False  # counting stopped early: at least ``ready``
    upcoming: int = 0  # WAITING children of running fireworks: READY soon

    def summary(self, maxjobs_queue: int) -> str:
        ids = ", ".join(s.job_id for s in self.submitted)
        done = f"submitted {len(self.submitted)}" + (f" (jobs {ids})" if ids else "")
        ready = f"{self.ready}{' or more' if self.ready_capped else ''}"
        if self.upcoming:
            ready += f" (+{self.upcoming} about to be)"
        return (
            f"{ready} READY firework(s) for this worker, {self.queued} of at most "
            f"{maxjobs_queue} pilot job(s) queued: {done}"
        )


# -- the launcher -------------------------------------------------------------------
class QueueLauncher:
    """Submits pilot jobs through ``adapter`` for READY work in ``launchpad``."""

    def __init__(
        self,
        launchpad,
        adapter,
        worker: Optional[FWorker] = None,
        launch_dir: str = ".",
        reserve: bool = False,
        maxjobs_block: int = 500,
        submit_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = datetime.now,
        submit_script: str = SUBMIT_SCRIPT,
    ):
        if maxjobs_block < 1:
            raise ConfigError("maxjobs_block (-b) must be at least 1")
        self.lp = launchpad
        self.adapter = adapter
        self.worker = worker or FWorker()
        self.filter = self.worker.filter()
        self.launch_dir = os.path.abspath(launch_dir)
        self.reserve = reserve
        self.maxjobs_block = maxjobs_block
        self.submit_interval = submit_interval
        self.submit_script = submit_script  # FW_config.yaml's SUBMIT_SCRIPT_NAME, if set
        self.clock, self.sleep, self.now = clock, sleep, now
        self._block: Optional[str] = None
        self._block_jobs = 0
        self._last_submit: Optional[float] = None
        self.submitted_total = 0  # pilots this launcher got into the queue, all rounds
        self.poll = POLL_SECS
        self._signal_ok = (
            adapter.q_type == "SLURM"
            and "$${signal}" in adapter.template_text()
            and adapter.config.params.get("signal") in (None, "")
        )

    # -- one pilot -------------------------------------------------------------
    def singleshot(self) -> Optional[Submission]:
        """Submit one pilot now (from a launcher dir in ``launch_dir``), if there is READY work."""
        submission = None
        if self.reserve or self.lp.count_ready(self.filter, limit=1):
            submission = self._submit_one(self.launch_dir)
        if submission is None:
            log.info("no READY firework for worker %r: no job submitted", self.worker.name)
        return submission

    def _submit_one(self, parent: str) -> Optional[Submission]:
        """A job from a new launcher directory; a failed submission (or nothing left to
        reserve) removes the directory again, so no empty launcher_* is left behind."""
        launcher_dir = make_unique_dir(parent, "launcher_", self.now())
        submission = None
        try:
            submission = self._submit_from(launcher_dir)
        finally:
            if submission is None:
                shutil.rmtree(launcher_dir, ignore_errors=True)
            elif submission.launcher_dir != launcher_dir:  # the job runs in its _launch_dir
                shutil.rmtree(launcher_dir, ignore_errors=True)
        return submission

    def _submit_from(self, launcher_dir: str) -> Optional[Submission]:
        offline = is_offline(self.adapter.config.params.get("rocket_launch", ""))
        if offline and not self.reserve:
            raise ConfigError(
                "rlaunch --offline in rocket_launch runs a firework qlaunch reserved for it: "
                "use reservation mode (qlaunch -r)"
            )
        if not self.reserve:
            job_id = self._submit(launcher_dir, {})
            return Submission(job_id, launcher_dir)
        fw, launch_id = self.lp.claim_for_queue(self.filter, launch_dir=launcher_dir)
        if fw is None:
            return None
        try:
            launcher_dir = self._reserved_dir(fw, launch_id, launcher_dir)
            if offline:  # the job will see no store: it gets the firework in files
                prepare_offline_run(self.lp, fw, launch_id, launcher_dir, self.filter)
            job_id = self._submit(launcher_dir, _queue_overrides(fw), fw_id=fw["fw_id"])
        except ConfigError as exc:
            self._give_back(fw["fw_id"])
            raise ConfigError(
                f"firework {fw['fw_id']}: {exc}; it is READY again, fix its "
                f"spec._queueadapter with lpad update_fws -i {fw['fw_id']}"
            ) from exc
        except BaseException:  # any failure, even Ctrl-C: never keep a reservation without a job
            self._give_back(fw["fw_id"])
            raise
        self.lp.set_reservation_id(launch_id, job_id)
        return Submission(job_id, launcher_dir, fw["fw_id"], launch_id)

    def _reserved_dir(self, fw: Mapping, launch_id: int, launcher_dir: str) -> str:
        """Where a reserved firework's job runs: an absolute ``_launch_dir`` of its spec (a
        scratch path, say), as FireWorks' ``qlaunch -r`` does, so its submit script, queue
        output and offline files are there; otherwise the launcher directory (a relative
        ``_launch_dir`` is the rocket's, under it). A worker that confines its launches
        (``confine_launch_dir``) keeps the launcher directory; its rocket refuses the spec."""
        wanted = (fw.get("spec") or {}).get("_launch_dir")
        if not wanted or self.worker.confined:
            return launcher_dir
        path = os.path.expandvars(os.path.expanduser(str(wanted)))
        if not os.path.isabs(path):
            return launcher_dir
        os.makedirs(path, exist_ok=True)
        self.lp.change_launch_dir(launch_id, path)
        return path

    def _submit(self, launcher_dir: str, overrides: Mapping, fw_id: Optional[int] = None) -> str:
        values = dict(overrides)
        walltime = self.adapter.walltime_seconds(values)
        base = values.get("rocket_launch") or self.adapter.config.params["rocket_launch"]
        command = pilot_command(str(base), walltime, fw_id)
        wrapped = (
            forward_signal(command) if (self._signal_ok and walltime and not values.get("signal")) else None
        )
        if wrapped:
            command = wrapped
            values["signal"] = f"B:USR1@{signal_lead(walltime)}"
        else:
            command = shield_shell(command)
        values.update(rocket_launch=command, launch_dir=launcher_dir)
        script = self.adapter.write_script(os.path.join(launcher_dir, self.submit_script), values)
        self._rate_limit()
        try:
            job_id = self.adapter.submit(str(script), cwd=launcher_dir)
        except QueueError as exc:
            log.debug("the refused script %s:\n%s", script, script.read_text(encoding="utf-8"))
            what = f" for firework {fw_id}" if fw_id is not None else ""
            after = (
                "the firework is READY again, nothing stays reserved"
                if fw_id is not None
                else "nothing was reserved"
            )
            raise QueueError(
                f"could not submit a pilot job{what}: {exc}\n{after} "
                "(--loglvl DEBUG shows the refused script)"
            ) from exc
        with open(os.path.join(launcher_dir, JOB_ID_FILE), "w", encoding="utf-8") as handle:
            handle.write(f"{job_id}\n")
        log.info(
            "submitted pilot job %s from %s%s",
            job_id,
            launcher_dir,
            f" for firework {fw_id}" if fw_id is not None else "",
        )
        return job_id

    def _rate_limit(self):
        """Space submissions by ``submit_interval``: a loop of sbatch calls hurts everyone."""
        if self._last_submit is not None:
            wait = self._last_submit + self.submit_interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_submit = self.clock()

    def _give_back(self, fw_id: int):
        try:
            self.lp.unreserve_fw(fw_id)
        except InvalidTransitionError as exc:  # someone else moved it meanwhile
            log.warning("could not give firework %s back: %s", fw_id, exc)

    # -- rounds ------------------------------------------------------------------
    def demand(self, maxjobs_queue: int) -> Round:
        """How many pilots to submit now: never past -m, never more than the work.

        The work is READY fireworks plus, except in reservation mode (which can
        only reserve READY ones), the WAITING children of running fireworks: a
        wide step then gets its pilots while its parent runs, not a round later.
        """
        # Our pilots in the qadapter's queue, as FireWorks counts there (docs/fireworks.md:
        # only jobs named job_name, since the count is also taken off the work).
        queued = self.adapter.count_jobs(self.adapter.job_name, queue=self.adapter.queue)
        limit = maxjobs_queue + queued
        ready = self.lp.count_ready(self.filter, limit=limit)
        upcoming = 0
        if not self.reserve and ready < limit:
            upcoming = self.lp.count_upcoming(self.filter, limit=limit - ready)
        # A reserved firework is no longer READY, so its queued job is already counted out.
        free_work = ready if self.reserve else ready + upcoming - queued
        return Round(
            ready,
            queued,
            max(0, min(maxjobs_queue - queued, free_work)),
            ready_capped=ready + upcoming >= limit,
            upcoming=upcoming,
        )

    def top_up(self, maxjobs_queue: int, limit: Optional[int] = None) -> Round:
        """One round: fill the queue up to ``maxjobs_queue`` pilots (at most ``limit`` new).

        A scheduler error ends the round with QueueError; what was submitted
        before it stays submitted.
        """
        if maxjobs_queue < 1:
            raise ConfigError("maxjobs_queue (-m) must be at least 1")
        result = self.demand(maxjobs_queue)
        todo = result.wanted if limit is None else min(result.wanted, limit)
        for _ in range(todo):
            try:
                submission = self._submit_one(self._block_dir())
            finally:
                self._drop_empty_block()
            if submission is None:
                break  # the READY work was taken meanwhile
            self._block_jobs += 1
            self.submitted_total += 1
            result.submitted.append(submission)
        return result

    def _drop_empty_block(self):
        """Remove a block directory this launcher made but got no job into."""
        if self._block is not None and self._block_jobs == 0 and not os.listdir(self._block):
            os.rmdir(self._block)
            self._block = None

    def _block_dir(self) -> str:
        if self._block is None or self._block_jobs >= self.maxjobs_block:
            self._block = make_unique_dir(self.launch_dir, "block_", self.now())
            self._block_jobs = 0
            log.info("new block directory %s", self._block)
        return self._block

    def rapidfire(
        self,
        maxjobs_queue: int = 10,
        nlaunches: int = 0,
        sleep_time: float = 60.0,
        timeout: Optional[float] = None,
        max_errors: int = 5,
    ) -> int:
        """Top the queue up every ``sleep_time`` seconds; returns the number of jobs submitted.

        ``nlaunches``: N > 0 stops after N jobs; 0 stops once no work is left
        (nothing READY, RUNNING or RESERVED); -1 never stops by itself.
        ``timeout`` stops before a sleep would pass it.  Failing before this
        launcher ever submitted a job stops at once (almost always a qadapter mistake: partition,
        account, walltime); later errors back off, and ``max_errors`` in a row
        stop with the scheduler's message.
        """
        started, launched, failures = self.clock(), 0, 0
        while True:
            pause = sleep_time
            self._recover_offline()
            try:
                limit = nlaunches - launched if nlaunches > 0 else None
                result = self.top_up(maxjobs_queue, limit)
                failures = 0
                launched += len(result.submitted)
                log.info("%s", result.summary(maxjobs_queue))
            except QueueError as exc:
                failures += 1
                if self.submitted_total == 0 or failures >= max_errors:
                    raise
                pause = max(sleep_time, backoff(failures))
                log.error("%s; attempt %d of %d, trying again in %g s", exc, failures, max_errors, pause)
            if self._finished(launched, nlaunches):
                break
            if timeout is not None and self.clock() - started + pause > timeout:
                log.info("stopping: the next round would start after --timeout %g s", timeout)
                break
            log.info("sleeping %g s", pause)
            if self._pause(pause, nlaunches):
                break
        return launched

    def _recover_offline(self):
        """In offline mode, this worker's finished runs are read in before each round
        (lpad recover_offline): they ready the next fireworks, and until then their
        reservations would keep rapidfire waiting for ever."""
        if not is_offline(self.adapter.config.params.get("rocket_launch", "")):
            return
        results = recover_all(self.lp, self.filter.name)
        if any(r.steps or r.failed for r in results):
            log.info("offline runs: %s", recovery_summary(results))

    def _pause(self, seconds: float, nlaunches: int) -> bool:
        """Sleep between rounds; True when, with ``nlaunches`` 0, no work is left.

        Rounds stay exactly ``seconds`` apart; only a wait that nothing can end
        usefully is cut short, by a cheap look every ``poll`` seconds.
        """
        if nlaunches != 0:
            self.sleep(seconds)
            return False
        end = self.clock() + seconds
        while True:
            self.sleep(max(0.0, min(end - self.clock(), self.poll)))
            if self.clock() >= end:
                return False
            if self._finished(0, 0):
                return True

    def _finished(self, launched: int, nlaunches: int) -> bool:
        if nlaunches > 0:
            return launched >= nlaunches
        if nlaunches == 0 and not self.lp.run_exists(self.filter):
            log.info("no work left: nothing READY, RUNNING or RESERVED")
            return True
        return False


def prepare_offline_run(lp, fw: Mapping, launch_id: int, launch_dir: str, worker) -> None:
    """FW.json and FW_offline.json in the reservation's directory, and the launch marked for
    ``lpad recover_offline`` (FireWorks' setup_offline_job)."""
    write_fw_json(fw, launch_dir)
    start_offline_file(launch_dir, launch_id)
    add_offline_run(lp, launch_id, fw["fw_id"], fw.get("name"), fworker=worker)


def setup_offline_job(launchpad, fw, launch_id) -> None:
    """FireWorks' name and arguments for ``prepare_offline_run``: the offline files in the
    current directory, for a Firework (``lp.get_fw_by_id``) or a firework record."""
    doc = fw.to_dict() if hasattr(fw, "to_dict") else fw
    prepare_offline_run(launchpad, doc, launch_id, os.getcwd(), None)


def _queue_overrides(fw: Mapping) -> dict:
    """A firework's ``_queueadapter`` (walltime, nodes, ...) for its own job."""
    overrides = fw["spec"].get("_queueadapter") or {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(
            f"firework {fw['fw_id']}: _queueadapter must be a mapping of qadapter "
            f"keys (walltime, nodes, ...), not {type(overrides).__name__}"
        )
    overrides = dict(overrides)
    if overrides.pop("job_name", None) is not None:
        log.warning(
            "firework %s: _queueadapter job_name ignored: qlaunch counts its jobs by the qadapter's job_name",
            fw["fw_id"],
        )
    return overrides


__all__ = [
    "QueueLauncher",
    "Round",
    "Submission",
    "pilot_command",
    "is_offline",
    "prepare_offline_run",
    "setup_offline_job",
    "forward_signal",
    "shield_shell",
    "stop_margin",
    "signal_lead",
    "backoff",
    "SUBMIT_SCRIPT",
    "JOB_ID_FILE",
]
