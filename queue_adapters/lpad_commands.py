"""The queue's ``lpad`` commands: get_qids, cancel_qid, detect_unreserved, daemon.

``lpad`` loads ``register`` through the ``starshell.lpad_commands`` entry
point, so launchpad never imports queue_adapters.  Each handler is
``func(args, launchpad) -> exit code``.
"""

from __future__ import annotations

import logging
import re
import sys

import launchpad.display as display
from launchpad import fw_config
from launchpad.cli.common import count, id_list, seconds
from launchpad.errors import ConfigError, NotFoundError

from .adapters import get_adapter
from .cli import add_queue_options, find_files, find_qadapter_file, make_launcher
from .daemon import LOST_ACTIONS, DaemonSettings, QueueDaemon, daemon_state, status_path, stop_daemon
from .reservations import DEFAULT_MAX_WAIT, cancel_qid, detect_unreserved, get_qids

QADAPTER_HELP = (
    "the queue adapter file, to ask the scheduler about jobs (default: "
    "./my_qadapter.yaml, else ~/.starshell/my_qadapter.yaml)"
)


def register(subparsers):
    """Add the queue commands to ``lpad``'s subparsers."""
    p = subparsers.add_parser(
        "get_qids",
        help="show the queue job ids of fireworks' launches",
        description="For each launch of the fireworks, the batch system's job id it ran or "
        "waits in: a reservation's id, or the pilot job recorded in its launcher directory.",
    )
    p.add_argument(
        "-i",
        "--fw_id",
        type=id_list,
        nargs="+",
        required=True,
        metavar="IDS",
        help="firework ids (e.g. 3, 1,2,5-9)",
    )
    p.set_defaults(func=get_qids_command)

    p = subparsers.add_parser(
        "cancel_qid",
        help="cancel a queue job and free its fireworks",
        description="Cancel the job (scancel, qdel...). Fireworks RESERVED for it become READY. "
        "A RUNNING firework is handed back by its rocket (SIGTERM means requeue); if the job "
        "ends without that, the firework is rerun; if the job does not end within --wait, it "
        "stays RUNNING for detect_lostruns.",
    )
    p.add_argument("qid", nargs="?", help="the job id, as squeue/qstat show it")
    p.add_argument("--qid", dest="qid_option", metavar="QID", help="the same, as FireWorks writes it")
    p.add_argument(
        "-q",
        "--queueadapter_file",
        help=QADAPTER_HELP + "; with none, only the job's reservations are released and the "
        "job stays queued, as FireWorks' cancel_qid does",
    )
    p.add_argument(
        "--wait",
        type=seconds,
        default=15,
        metavar="SECS",
        help="how long to wait for a running job to end (default 15)",
    )
    p.set_defaults(func=cancel_qid_command)

    p = subparsers.add_parser(
        "detect_unreserved",
        help="find RESERVED fireworks whose job vanished or waits too long",
        description="List reservations (qlaunch -r) whose job the scheduler no longer knows, "
        "that ended without starting the firework, or that waited longer than --time while "
        "not running. --rerun makes their fireworks READY again (and cancels a job still "
        "queued). Without a qadapter file only the --time rule applies.",
    )
    p.add_argument(
        "--time",
        type=seconds,
        default=DEFAULT_MAX_WAIT,
        metavar="SECS",
        help=f"seconds a reservation may wait (default {DEFAULT_MAX_WAIT}: two weeks, or "
        "FW_config.yaml's RESERVATION_EXPIRATION_SECS)",
    )
    p.add_argument("--rerun", action="store_true", help="release them: back to READY")
    p.add_argument("-q", "--queueadapter_file", help=QADAPTER_HELP)
    p.set_defaults(func=detect_unreserved_command)

    _register_daemon(subparsers)


def _register_daemon(subparsers):
    p = subparsers.add_parser(
        "daemon",
        help="run the queue top-up and maintenance in the foreground (or status/stop)",
        description="A long-running process (fit for tmux, cron @reboot or a systemd unit) that "
        "keeps up to -m pilot jobs queued while READY work exists, reruns lost runs and frees "
        "stale reservations on schedules. SIGTERM or Ctrl-C stop it once running jobs finish. "
        "'lpad daemon status' and 'lpad daemon stop' talk to the running one.",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("run", "status", "stop"),
        default="run",
        help="run (default), status or stop",
    )
    add_queue_options(p, launchpad_option=False)
    p.add_argument(
        "-m",
        "--maxjobs_queue",
        type=count,
        default=10,
        metavar="N",
        help="at most N of our pilot jobs queued or running (default 10)",
    )
    p.add_argument(
        "-b",
        "--maxjobs_block",
        type=count,
        default=500,
        metavar="N",
        help="launcher directories per block directory (default 500)",
    )
    d = DaemonSettings()
    p.add_argument(
        "--topup_interval",
        type=seconds,
        default=d.topup_interval,
        metavar="SECS",
        help=f"seconds between queue top-ups; 0: none (default {d.topup_interval:g})",
    )
    p.add_argument(
        "--lostruns_interval",
        type=seconds,
        default=d.lostruns_interval,
        metavar="SECS",
        help=f"seconds between lost-run checks; 0: none (default {d.lostruns_interval:g})",
    )
    p.add_argument(
        "--lostruns_time",
        type=seconds,
        default=d.lostruns_time,
        metavar="SECS",
        help="seconds without a heartbeat that make a run lost; a run whose heartbeat "
        "is younger than twice its rocket's --ping_interval is never lost "
        f"(default {d.lostruns_time:g})",
    )
    p.add_argument(
        "--lostruns_action",
        choices=LOST_ACTIONS,
        default=d.lostruns_action,
        help="what to do with lost runs: rerun (default), fizzle, or report only",
    )
    p.add_argument(
        "--unreserved_interval",
        type=seconds,
        default=d.unreserved_interval,
        metavar="SECS",
        help=f"seconds between stale-reservation checks; 0: none (default {d.unreserved_interval:g})",
    )
    p.add_argument(
        "--unreserved_time",
        type=seconds,
        default=d.unreserved_time,
        metavar="SECS",
        help=f"seconds a reservation may wait before it is released (default {d.unreserved_time:.0f})",
    )
    p.add_argument(
        "--offline_interval",
        type=seconds,
        default=d.offline_interval,
        metavar="SECS",
        help="seconds between recoveries of offline runs (lpad recover_offline: jobs of "
        f"rlaunch --offline); 0: none (default {d.offline_interval:g})",
    )
    p.add_argument("--logfile", help="append the log to this file (default: standard error)")
    p.add_argument("--loglvl", default="INFO", help="log level (default INFO)")
    p.add_argument(
        "--wait",
        type=seconds,
        default=60.0,
        metavar="SECS",
        help="daemon stop: how long to wait for it to finish (default 60)",
    )
    # status and stop must work while the store is down: the handler opens it for run only
    p.set_defaults(func=daemon_command, needs_launchpad=False)


# -- handlers --------------------------------------------------------------------
def _found(args):
    """FW_config.yaml's settings (lpad puts them on args) after -w/-q are looked for
    as qlaunch looks: lpad's -c, the *_LOC keys, ~/.fireworks."""
    settings = getattr(args, "fw_settings", None) or fw_config.FWSettings()
    find_files(args, settings)
    return settings


def _adapter(args, required):
    _found(args)
    path = find_qadapter_file(args.queueadapter_file, required=required)
    return get_adapter(path) if path else None


def get_qids_command(args, launchpad) -> int:
    ids = list(dict.fromkeys(i for group in args.fw_id for i in group))
    rows = get_qids(launchpad, ids)
    fmt = getattr(args, "output", None)
    display.emit(rows, fmt, human=lambda: _show_qids(ids, rows))
    return 0


def _show_qids(ids, rows):
    if rows:
        display.table(
            [[r["fw_id"], r["launch_id"], r["state"], r["qid"] or "-"] for r in rows],
            ["fw_id", "launch_id", "launch state", "queue id"],
        )
    missing = sorted(set(ids) - {r["fw_id"] for r in rows})
    if missing:
        display.note(f"never launched or reserved: fireworks {display.ids_text(missing)}")


def cancel_qid_command(args, launchpad) -> int:
    qid = _one_qid(args.qid, args.qid_option)
    adapter = _adapter(args, required=False)
    result = cancel_qid(launchpad, adapter, qid, wait=args.wait)
    if adapter is None and not result.touched:
        raise NotFoundError(
            f"no firework is reserved for job {qid}, and without a queue adapter file "
            "(-q my_qadapter.yaml) the job itself cannot be cancelled"
        )
    if not result.known and not result.touched:
        raise NotFoundError(
            f"job {args.qid} is not known to the scheduler: nothing was "
            "cancelled (squeue -u $USER lists your jobs; lpad get_qids -i IDS "
            "those of fireworks)"
        )
    display.emit(
        result.to_dict(), getattr(args, "output", None), human=lambda: _show_cancel(result, args.wait)
    )
    return 1 if result.still_running else 0


def _one_qid(positional, option):
    """``cancel_qid 123`` or FireWorks' ``cancel_qid --qid 123``."""
    if positional and option and str(positional) != str(option):
        raise ConfigError(f"two job ids given ({positional} and --qid {option}): give one")
    if not (positional or option):
        raise ConfigError("give the job id: lpad cancel_qid QID (or --qid QID)")
    return str(positional or option)


def _show_cancel(r, wait):
    if not r.asked:
        display.out(
            f"job {r.qid} was left in the queue (no queue adapter file to cancel it with); "
            "cancel it there yourself (scancel, qdel...)"
        )
    if r.cancelled:
        display.out(f"cancelled job {r.qid}")
    elif r.known:
        display.out(f"job {r.qid} had already ended ({r.job_state}): nothing to cancel")
    elif r.asked:
        display.out(f"job {r.qid} is not known to the scheduler: nothing was cancelled")
    for fw_id in r.released:
        display.out(f"firework {fw_id}: its reservation was released; it is READY again")
    for fw_id in r.handed_back:
        display.out(f"firework {fw_id}: its rocket handed it back; it is READY again")
    for fw_id in r.rerun:
        display.out(f"firework {fw_id}: the job ended without handing it back; it was rerun")
    for fw_id in r.still_running:
        display.out(
            f"firework {fw_id} is still RUNNING: job {r.qid} has not ended after "
            f"{wait:g} s; lpad detect_lostruns --rerun will catch it if it never reports"
        )
    if not (r.released or r.handed_back or r.rerun or r.still_running):
        display.note(f"no firework was tied to job {r.qid}")


def detect_unreserved_command(args, launchpad) -> int:
    adapter = _adapter(args, required=False)
    if adapter is None:
        display.note("no queue adapter file: checking only how long reservations waited")
    stale = detect_unreserved(launchpad, adapter, max_wait=args.time, release=args.rerun)
    data = [s.to_dict() for s in stale]
    display.emit(data, getattr(args, "output", None), human=lambda: _show_unreserved(stale, args))
    return 0


def _show_unreserved(stale, args):
    if not stale:
        display.out("no stale reservations")
        return
    for s in stale:
        job = f"job {s.qid}" if s.qid else "no job"
        done = " -> READY" if s.released else ""
        if s.job_cancelled:
            done += f"; its queued job {s.qid} was cancelled"
        elif s.cancel_job and not args.rerun:
            done += f" (--rerun also cancels its queued job {s.qid})"
        display.out(f"firework {s.fw_id} (launch {s.launch_id}, {job}): {s.reason}{done}")
    if not args.rerun:
        display.out("pass --rerun to make them READY again")


def daemon_command(args, launchpad) -> int:
    if args.action == "status":
        return _daemon_status()
    if args.action == "stop":
        return _daemon_stop(args.wait)
    _daemon_logging(args)
    found = _found(args)
    if launchpad is None:
        launchpad = fw_config.open_launchpad(found, getattr(args, "launchpad_file", None))
    launcher = make_launcher(args, launchpad, required=args.topup_interval > 0, settings=found)
    settings = DaemonSettings(
        maxjobs_queue=args.maxjobs_queue,
        topup_interval=args.topup_interval,
        lostruns_interval=args.lostruns_interval,
        lostruns_time=args.lostruns_time,
        lostruns_action=args.lostruns_action,
        unreserved_interval=args.unreserved_interval,
        unreserved_time=args.unreserved_time,
        offline_interval=args.offline_interval,
        ping_interval=_ping_interval(launcher),
    )
    adapter = launcher.adapter if launcher else None
    if not args.topup_interval:
        launcher = None
    return QueueDaemon(launchpad, settings, launcher, adapter).serve()


# rlaunch's default --ping_interval (queue_adapters does not import rocket).
RLAUNCH_PING_INTERVAL = 60.0


def _ping_interval(launcher) -> float | None:
    """The pilots' heartbeat interval, read from the qadapter's rocket_launch (None
    without a qadapter): only for the daemon's note on --lostruns_time."""
    if launcher is None:
        return None
    command = str(launcher.adapter.config.params.get("rocket_launch", ""))
    found = re.search(r"--ping_interval[=\s]+([0-9.]+)", command)
    return float(found.group(1)) if found else RLAUNCH_PING_INTERVAL


def _daemon_logging(args):
    level = getattr(logging, str(args.loglvl).upper(), None)
    if not isinstance(level, int):
        raise ConfigError(f"--loglvl {args.loglvl!r} is not DEBUG, INFO, WARNING or ERROR")
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.FileHandler(args.logfile) if args.logfile else logging.StreamHandler(sys.stderr)
    handler.setFormatter(fmt)
    for name in ("starshell.daemon", "qlaunch"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _daemon_status() -> int:
    path = status_path()
    data, running = daemon_state(path)
    if not running:
        display.out("no daemon is running" + (f" (pid {data['pid']} has ended)" if data else ""))
        return 1
    display.out(f"daemon running: pid {data['pid']} on {data['host']} since {data['started']}")
    display.out(f"store: {data['store']}; queue adapter: {data.get('qadapter') or 'none'}")
    rows = [
        [
            name,
            f"{job['every']:g} s",
            job.get("last_run") or "-",
            job.get("next_run") or "-",
            job.get("error") or job.get("result") or "-",
        ]
        for name, job in data["jobs"].items()
    ]
    display.table(rows, ["job", "every", "last run (UTC)", "next run (UTC)", "last result"])
    return 0


def _daemon_stop(wait) -> int:
    result = stop_daemon(status_path(), wait=wait)
    if result["stopped"]:
        display.out(f"daemon (pid {result['pid']}) stopped")
        return 0
    if result["running"]:
        display.out(
            f"daemon (pid {result['pid']}) is still finishing its running jobs after "
            f"{wait:g} s; check again with lpad daemon status"
        )
        return 1
    display.out("no daemon is running")
    return 0
