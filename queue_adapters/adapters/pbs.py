"""PBS Pro and Torque: qsub, qselect, qstat, qdel.

Written from the two systems' documented output; the recorded samples in
tests/data/queue/pbs/ are hand-made from that documentation, not from a live
server (we have none), so treat a mismatch on a real cluster as our bug.
"""

from __future__ import annotations

import re
from typing import Optional

from launchpad.errors import QueueError

from .base import JobState, QueueAdapter

S = JobState
_LETTERS = {
    **dict.fromkeys("QWHT", S.PENDING),
    **dict.fromkeys("REB", S.RUNNING),
    **dict.fromkeys("SU", S.SUSPENDED),
}
# Torque's C(ompleted) and PBS Pro's F(inished)/X (finished subjob) need the exit status
_DONE = "CFX"
# exit statuses the servers set themselves: walltime hit (PBS Pro -29, Torque -11),
# killed by qdel's SIGTERM (PBS Pro 256+15)
_EXIT_STATES = {-29: S.TIMEOUT, -11: S.TIMEOUT, 271: S.CANCELLED}
_UNKNOWN_JOB = re.compile(r"Unknown Job Id|Job has finished", re.IGNORECASE)
_FIELD = re.compile(r"^\s*(job_state|exit_status)\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class PBSAdapter(QueueAdapter):
    q_type = "PBS"
    template_name = "PBS_template.txt"
    commands = {"submit_cmd": "qsub", "status_cmd": "qstat", "select_cmd": "qselect", "cancel_cmd": "qdel"}
    cancel_gone = _UNKNOWN_JOB

    def _submit_argv(self, script: str) -> list:
        return self._cmd("submit_cmd", script)

    def _parse_job_id(self, stdout: str) -> Optional[str]:
        """qsub prints "123.server" (Torque, PBS Pro) on its last line."""
        lines = stdout.strip().splitlines()
        last = lines[-1].strip() if lines else ""
        return last if re.fullmatch(r"\d+(\[\d*\])?(\.[\w.-]+)?", last) else None

    def count_jobs(self, job_name: Optional[str] = None, queue: Optional[str] = None) -> int:
        """qselect matches the full job name; qstat's table truncates it."""
        argv = self._cmd("select_cmd", "-u", self.user, "-s", "QRHW")
        if job_name:
            argv += ["-N", job_name]
        if queue:
            argv += ["-q", queue]
        _, out, _ = self._call(argv)
        return sum(1 for line in out.splitlines() if line.strip())

    def job_state(self, job_id: str) -> Optional[JobState]:
        """qstat -f, then PBS Pro's history (-x) once the job has left the queue."""
        for extra in ([], ["-x"]):
            argv = self._cmd("status_cmd", *extra, "-f", str(job_id))
            rc, out, err = self._call(argv, check=False)
            if rc == 0 and out.strip():
                return _state_from_full(out)
            if rc != 0 and not _UNKNOWN_JOB.search(err):
                raise QueueError(self._failure(argv, rc, out, err))
        return None


def _state_from_full(text: str) -> JobState:
    fields = {key.lower(): value for key, value in _FIELD.findall(text)}
    letter = fields.get("job_state", "?")[:1].upper()
    if letter in _LETTERS:
        return _LETTERS[letter]
    if letter not in _DONE:
        return S.UNKNOWN
    try:
        code = int(fields.get("exit_status", "0"))
    except ValueError:
        return S.UNKNOWN
    return S.COMPLETED if code == 0 else _EXIT_STATES.get(code, S.FAILED)
