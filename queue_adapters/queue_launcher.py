"""FireWorks' queue launcher API (``fireworks.queue.queue_launcher``) for scripts that
submit jobs from Python with a qadapter object (a ``CommonAdapter``, one loaded from
my_qadapter.yaml, or a user's ``QueueAdapterBase`` subclass).

These follow FireWorks' rules, not qlaunch's: the job script is what the qadapter
renders (no ``--timeout`` or signal forwarding added), ``rapidfire`` submits while
READY work exists until ``njobs_queue`` or ``nlaunches`` stops it, and reuses the
newest ``block_*`` directory. ``qlaunch`` and ``QueueLauncher`` (launcher.py) remain
the way to submit only as many pilots as the work needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import os
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from launchpad import fw_config
from launchpad.fw_utilities import create_datestamp_dir, get_slug, log_exception
from launchpad.serialization import load_object
from launchpad.worker import FWorker

from .launcher import JOB_ID_FILE, make_unique_dir, prepare_offline_run, setup_offline_job

log = logging.getLogger("qlaunch")

# FireWorks' constants that FW_config.yaml may change there but starshell does not read.
QUEUE_JOBNAME_MAXLEN = 20  # a reserved job is named after its firework, cut to this
QSTAT_FREQUENCY = 50  # ask the scheduler again after this many submissions
RETRY_SECS = 30.0  # first pause after the scheduler could not count the jobs, doubling


@contextlib.contextmanager
def _inside(folder):
    """In ``folder`` for the submission, as FireWorks submits (a qadapter of the user's
    may pass the script's bare name to its command)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _slug(name: str) -> str:
    """FireWorks' job name of a reserved firework: its name's safe characters, blanks as _."""
    return re.sub(r"[^-_.() A-Za-z0-9]", "", str(name)).replace(" ", "_")


def _setting(name: str) -> Any:
    return fw_config.fireworks_setting(name)


def _set_stream_level(level: Any) -> None:
    if level is not None:
        log.setLevel(level if isinstance(level, int) else str(level).upper())


def _worker_filter(fworker, fw_id=None):
    """What the LaunchPad's queries take for ``fworker``, narrowed to ``fw_id`` if given."""
    wanted = (fworker or FWorker()).filter()
    if fw_id is None:
        return wanted
    query = {"$and": [wanted.query, {"fw_id": int(fw_id)}]} if wanted.query else {"fw_id": int(fw_id)}
    return dataclasses.replace(wanted, query=query)


def _new_dir(parent: str, prefix: str) -> str:
    """FireWorks' ``<prefix><UTC date stamp>`` directory (launcher_ or block_)."""
    made = make_unique_dir(parent, prefix, datetime.now(timezone.utc))
    log.info("created %s", made)
    return made


def launch_rocket_to_queue(
    launchpad,
    fworker,
    qadapter,
    launcher_dir: str = ".",
    reserve: bool = False,
    strm_lvl: Optional[str] = None,
    create_launcher_dir: bool = False,
    fill_mode: bool = False,
    fw_id: Optional[int] = None,
):
    """Submit one job, as FireWorks' ``launch_rocket_to_queue``.

    Returns the job id; False when the submission failed (logged) or nothing was left
    to reserve; None when no READY firework exists for ``fworker`` (and not
    ``fill_mode``). Inconsistent arguments raise ValueError before anything happens.
    """
    _set_stream_level(strm_lvl)
    launcher_dir = os.path.abspath(launcher_dir)
    qadapter = load_object(qadapter.to_dict())  # a copy: reservation mode changes it
    _check_arguments(qadapter, launcher_dir, reserve, fill_mode, fw_id)
    wanted = _worker_filter(fworker, fw_id)
    if not fill_mode and not launchpad.count_ready(wanted, limit=1):
        log.info("no READY firework for worker %r: no job submitted", wanted.name)
        return None
    fw, launch_id = None, None
    try:
        if reserve:
            fw, launch_id = launchpad.claim_for_queue(wanted, launch_dir=launcher_dir)
            if fw is None:
                log.info("no READY firework left to reserve")
                return False
            launcher_dir = _prepare_reserved(
                launchpad, qadapter, fw, launch_id, launcher_dir, create_launcher_dir
            )
        elif create_launcher_dir:
            launcher_dir = _new_dir(launcher_dir, "launcher_")
        job_id = _submit(launchpad, qadapter, launcher_dir, fw, launch_id, wanted)
        if reserve:
            launchpad.set_reservation_id(launch_id, job_id)
        return job_id
    except Exception:  # noqa: BLE001 - FireWorks' contract: logged, False returned, reservation undone
        log.exception("writing or submitting the queue script in %s failed", launcher_dir)
        if fw is not None:
            _give_back(launchpad, fw["fw_id"], launch_id, qadapter)
        return False


def _check_arguments(qadapter, launcher_dir, reserve, fill_mode, fw_id):
    command = str(qadapter.get("rocket_launch", ""))
    if not os.path.exists(launcher_dir):
        raise ValueError(f"the launch directory {launcher_dir} does not exist")
    if "--offline" in command and not reserve:
        raise ValueError("rlaunch --offline in rocket_launch needs reservation mode (reserve=True)")
    if reserve and "singleshot" not in command:
        raise ValueError("reservation mode needs rocket_launch to run 'rlaunch ... singleshot'")
    if fill_mode and reserve:
        raise ValueError("fill_mode cannot be combined with reservation mode")
    if fw_id and not reserve:
        raise ValueError("a particular fw_id can be queued only in reservation mode (reserve=True)")


def _prepare_reserved(launchpad, qadapter, fw, launch_id, launcher_dir, create_launcher_dir):
    """The reserved firework's job: named after it, its ``_queueadapter`` applied,
    ``--fw_id`` added, run in its ``_launch_dir`` or a new launcher_ directory."""
    log.info("reserved firework %s", fw["fw_id"])
    qadapter.update(job_name=_slug(fw.get("name") or "")[:QUEUE_JOBNAME_MAXLEN])
    spec = fw.get("spec") or {}
    if "_queueadapter" in spec:
        qadapter.update(spec["_queueadapter"])
    qadapter["rocket_launch"] += f" --fw_id {fw['fw_id']}"
    if "_launch_dir" in spec:
        wanted = os.path.expandvars(spec["_launch_dir"])
        launcher_dir = os.path.join(launcher_dir, wanted)  # an absolute wanted stays as it is
        os.makedirs(launcher_dir, exist_ok=True)
        launchpad.change_launch_dir(launch_id, launcher_dir)
    elif create_launcher_dir:
        launcher_dir = _new_dir(launcher_dir, "launcher_")
        launchpad.change_launch_dir(launch_id, launcher_dir)
    return launcher_dir


def _submit(launchpad, qadapter, launcher_dir, fw, launch_id, wanted):
    script_name = _setting("SUBMIT_SCRIPT_NAME")
    with _inside(launcher_dir):
        if "--offline" in qadapter["rocket_launch"]:
            prepare_offline_run(launchpad, fw, launch_id, launcher_dir, wanted)
        with open(script_name, "w", encoding="utf-8") as handle:
            handle.write(qadapter.get_script_str(launcher_dir))
        job_id = qadapter.submit_to_queue(script_name)
        if not job_id:
            raise RuntimeError(
                "the queue script could not be submitted: check the script, the qadapter and the scheduler"
            )
        with open(JOB_ID_FILE, "w", encoding="utf-8") as handle:  # for lpad get_qids / cancel_qid
            handle.write(f"{job_id}\n")
    log.info("submitted job %s from %s", job_id, launcher_dir)
    return job_id


def _give_back(launchpad, fw_id, launch_id, qadapter):
    """FireWorks' cancel_reservation: the firework is READY again, no offline run kept."""
    try:
        launchpad.unreserve_fw(fw_id)
        if "--offline" in qadapter.get("rocket_launch", ""):
            launchpad.forget_offline(launch_id)
    except Exception:  # noqa: BLE001 - logged, as FireWorks does; the submission error stands
        log.exception("could not give firework %s back", fw_id)


def rapidfire(
    launchpad,
    fworker,
    qadapter,
    launch_dir: str = ".",
    block_dir: Optional[str] = None,
    nlaunches=0,
    njobs_queue: int = 0,
    njobs_block: int = 500,
    sleep_time: Optional[float] = None,
    reserve: bool = False,
    strm_lvl: Optional[str] = None,
    timeout: Optional[float] = None,
    fill_mode: bool = False,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Submit jobs in rounds, as FireWorks' queue ``rapidfire``; returns how many.

    ``nlaunches``: stop after that many jobs; 0 stops when no work can come any more;
    -1 or "infinite" never. ``njobs_queue``: no new job while the user has that many
    queued (0: no limit). Jobs go into ``launcher_*`` directories of ``block_dir``
    (it must be named block_*), else of the newest ``block_*`` in ``launch_dir``,
    else of a new one; a block holds at most ``njobs_block``. As in FireWorks, an
    error ends the loop and is logged, not raised (a missing ``launch_dir`` raises).
    """
    _set_stream_level(strm_lvl)
    sleep_time = sleep_time or _setting("RAPIDFIRE_SLEEP_SECS")
    launch_dir = os.path.abspath(launch_dir)
    nlaunches = -1 if nlaunches == "infinite" else int(nlaunches)
    if not os.path.exists(launch_dir):
        raise ValueError(f"the launch directory {launch_dir} does not exist")
    launched, started = 0, clock()
    try:
        block = _block(launch_dir, block_dir)
        wanted = _worker_filter(fworker)
        while True:
            in_queue = _jobs_in_queue(qadapter, njobs_queue, sleep) if njobs_queue else 0
            since_count = 0
            while launchpad.count_ready(wanted, limit=1) or (fill_mode and not reserve):
                if timeout and clock() - started >= timeout:
                    log.info("timeout reached")
                    break
                if njobs_queue and in_queue >= njobs_queue:
                    log.info("%d jobs in the queue: the most allowed (njobs_queue)", in_queue)
                    break
                if len(glob.glob(os.path.join(block, "launcher_*"))) >= njobs_block:
                    block = _new_dir(launch_dir, "block_")
                result = launch_rocket_to_queue(
                    launchpad, fworker, qadapter, block, reserve, strm_lvl, True, fill_mode
                )
                if result is None:
                    break  # nothing READY any more
                if not result:
                    raise RuntimeError("a job could not be submitted (see the error above)")
                launched += 1
                if launched == nlaunches:
                    break
                sleep(_setting("QUEUE_UPDATE_INTERVAL"))
                in_queue, since_count = in_queue + 1, since_count + 1
                if njobs_queue and since_count % QSTAT_FREQUENCY == 0:
                    in_queue = _jobs_in_queue(qadapter, njobs_queue, sleep)
            if (
                launched == nlaunches
                or (timeout and clock() - started >= timeout)
                or (nlaunches == 0 and not launchpad.future_run_exists(fworker))
            ):
                break
            log.info("round done (%d jobs so far); sleeping %g s", launched, sleep_time)
            sleep(sleep_time)
    except Exception:  # noqa: BLE001 - FireWorks' contract: the loop ends with the error logged
        log.exception("the queue launcher's rapidfire stopped after %d job(s)", launched)
    return launched


def _block(launch_dir: str, block_dir: Optional[str]) -> str:
    """The block directory to fill: the one named, else the newest, else a new one."""
    if block_dir is not None:
        if not os.path.basename(block_dir).startswith("block_"):
            raise ValueError(f"block_dir {block_dir} must be named block_*")
        block = os.path.abspath(os.path.join(launch_dir, block_dir))
        os.makedirs(block, exist_ok=True)
        return block
    previous = sorted(glob.glob(os.path.join(launch_dir, "block_*")), reverse=True)
    if previous:
        log.info("using the previous block %s", previous[0])
        return previous[0]
    return _new_dir(launch_dir, "block_")


def _jobs_in_queue(qadapter, njobs_queue: int, sleep) -> int:
    """The user's jobs in the queue, asked QUEUE_RETRY_ATTEMPTS times with growing pauses."""
    pause = RETRY_SECS
    for _ in range(int(_setting("QUEUE_RETRY_ATTEMPTS"))):
        try:
            count = qadapter.get_njobs_in_queue()
        except Exception:  # noqa: BLE001 - a user's adapter may raise anything; asked again
            log.exception("could not count the jobs in the queue")
            count = None
        if count is not None:
            log.info("%d jobs in the queue, at most %d wanted", count, njobs_queue)
            return count
        sleep(pause)
        pause *= 2
    raise RuntimeError("could not count the jobs in the queue: check the qadapter and the scheduler")


__all__ = [
    "launch_rocket_to_queue",
    "rapidfire",
    "setup_offline_job",
    # FireWorks' queue_launcher helpers, for ported imports
    "create_datestamp_dir",
    "get_slug",
    "log_exception",
]
