"""IBM Spectrum LSF: bsub, bjobs, bkill.

Written from LSF's documented output; the samples in tests/data/queue/lsf/
are hand-made from it, not recorded on a live cluster.
"""

from __future__ import annotations

import math
import re
from typing import Optional

from launchpad.errors import QueueError

from .base import JobState, QueueAdapter

S = JobState
_STATES = {
    "PEND": S.PENDING,
    "WAIT": S.PENDING,
    "PSUSP": S.PENDING,
    "RUN": S.RUNNING,
    "PROV": S.RUNNING,
    "USUSP": S.SUSPENDED,
    "SSUSP": S.SUSPENDED,
    "DONE": S.COMPLETED,
    "EXIT": S.FAILED,
    "ZOMBI": S.FAILED,
}
_NO_JOBS = re.compile(r"No (unfinished )?job found|is not found", re.IGNORECASE)
_GONE = re.compile(r"already finished|is not found|No matching job found", re.IGNORECASE)


class LSFAdapter(QueueAdapter):
    q_type = "LSF"
    template_name = "LSF_template.txt"
    commands = {"submit_cmd": "bsub", "status_cmd": "bjobs", "cancel_cmd": "bkill"}
    cancel_gone = _GONE

    def format_walltime(self, seconds: int) -> str:
        """bsub -W takes [hours:]minutes; round up so the job gets at least what was asked."""
        minutes = math.ceil(seconds / 60)
        return f"{minutes // 60}:{minutes % 60:02d}"

    def _submit_argv(self, script: str) -> list:
        # bsub reads #BSUB lines only from a script on its standard input; the
        # injected runner has no stdin, so a shell does the redirection.
        return ["/bin/sh", "-c", 'exec "$@" < "$0"', script, *self._cmd("submit_cmd")]

    def _parse_job_id(self, stdout: str) -> Optional[str]:
        """bsub prints "Job <123> is submitted to queue <normal>."."""
        match = re.search(r"Job <(\d+)>", stdout)
        return match.group(1) if match else None

    def _bjobs(self, *args: str) -> list:
        """Rows of bjobs -o output; LSF reports "no job" on stderr, sometimes with exit 255."""
        argv = self._cmd("status_cmd", "-noheader", *args)
        rc, out, err = self._call(argv, check=False)
        if rc != 0 and not _NO_JOBS.search(err + out):
            raise QueueError(self._failure(argv, rc, out, err))
        return [line.split() for line in out.splitlines() if line.strip()]

    def count_jobs(self, job_name: Optional[str] = None, queue: Optional[str] = None) -> int:
        args = ["-u", self.user, "-o", "jobid stat"]
        if job_name:
            args += ["-J", job_name]
        if queue:
            args += ["-q", queue]
        rows = self._bjobs(*args)
        return sum(1 for row in rows if not _STATES.get(row[-1], S.UNKNOWN).finished)

    def job_state(self, job_id: str) -> Optional[JobState]:
        rows = self._bjobs("-o", "stat", str(job_id))
        return _STATES.get(rows[0][0], S.UNKNOWN) if rows else None
