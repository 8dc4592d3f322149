"""Slurm: sbatch, squeue, sacct, scancel.

The commands and their output were checked against a real Slurm 22.05 (see
ci/slurm-up.sh and tests/test_slurm_real.py).
"""

from __future__ import annotations

import re
from typing import Optional

from launchpad.errors import QueueError

from .base import JobState, QueueAdapter

S = JobState
# squeue %T / sacct State names -> our states
_STATES = {
    **dict.fromkeys(
        ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD"), S.PENDING
    ),
    **dict.fromkeys(("RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING"), S.RUNNING),
    **dict.fromkeys(("SUSPENDED", "STOPPED"), S.SUSPENDED),
    "COMPLETED": S.COMPLETED,
    **dict.fromkeys(
        (
            "FAILED",
            "BOOT_FAIL",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
            "DEADLINE",
            "PREEMPTED",
            "SPECIAL_EXIT",
            "REVOKED",
        ),
        S.FAILED,
    ),
    "CANCELLED": S.CANCELLED,
    "TIMEOUT": S.TIMEOUT,
}
# squeue's answer for an id slurmctld has purged from memory (after MinJobAge)
_PURGED = re.compile(r"Invalid job id specified")


def slurm_state(name: str) -> JobState:
    """Map a Slurm state name; sacct writes e.g. 'CANCELLED by 0'."""
    words = name.split()
    return _STATES.get(words[0], S.UNKNOWN) if words else S.UNKNOWN


class SlurmAdapter(QueueAdapter):
    q_type = "SLURM"
    template_name = "SLURM_template.txt"
    commands = {
        "submit_cmd": "sbatch",
        "status_cmd": "squeue",
        "history_cmd": "sacct",
        "cancel_cmd": "scancel",
    }

    def format_walltime(self, seconds: int) -> str:
        days, rest = divmod(seconds, 86400)
        clock = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"
        return f"{days}-{clock}" if days else clock

    def _submit_argv(self, script: str) -> list:
        return self._cmd("submit_cmd", "--parsable", script)

    def _parse_job_id(self, stdout: str) -> Optional[str]:
        """--parsable prints "ID" or "ID;cluster"."""
        first = stdout.strip().split(";")[0].strip()
        return first if re.fullmatch(r"\d+", first) else None

    def count_jobs(self, job_name: Optional[str] = None, queue: Optional[str] = None) -> int:
        argv = self._cmd("status_cmd", "-h", "-u", self.user, "-o", "%i %T")
        if job_name:
            argv += ["-n", job_name]
        if queue:
            argv += ["-p", queue]
        _, out, _ = self._call(argv)
        states = [slurm_state(line.split()[-1]) for line in out.splitlines() if line.strip()]
        return sum(not state.finished for state in states)

    def job_state(self, job_id: str) -> Optional[JobState]:
        """squeue while slurmctld remembers the job, then the accounting history."""
        argv = self._cmd("status_cmd", "-h", "-j", str(job_id), "-t", "all", "-o", "%T")
        rc, out, err = self._call(argv, check=False)
        if rc == 0 and out.strip():
            return slurm_state(out.split()[0])
        if rc != 0 and not _PURGED.search(err):
            raise QueueError(self._failure(argv, rc, out, err))
        return self._history_state(str(job_id))

    def _history_state(self, job_id: str) -> Optional[JobState]:
        """Plain sacct needs slurmdbd; ``sacct -c`` reads the jobcomp file instead."""
        for source in ("-X", "-c"):
            argv = self._cmd("history_cmd", source, "-j", job_id, "-n", "-P", "-o", "JobID,State")
            rc, out, _ = self._call(argv, check=False)
            if rc != 0:
                continue
            for line in out.splitlines():
                fields = line.split("|")
                if len(fields) >= 2 and fields[0] == job_id:
                    return slurm_state(fields[1])
        return None
