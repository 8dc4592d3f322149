"""Sun/Open/Univa Grid Engine: qsub -terse, qstat -xml, qacct, qdel.

Written from Grid Engine's documented output; the samples in
tests/data/queue/sge/ are hand-made from it, not recorded on a live cluster.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Dict, Optional

from launchpad.errors import QueueError

from .base import JobState, QueueAdapter

S = JobState
_GONE = re.compile(r"does not exist|not found", re.IGNORECASE)


def sge_state(code: str) -> JobState:
    """Grid Engine combines letters: qw, hqw, Eqw, r, Rr, t, dr, s, S, T..."""
    if "E" in code:
        return S.FAILED  # stuck in error: never runs without qmod -cj
    if "d" in code:
        return S.CANCELLED  # being deleted
    if any(c in code for c in "sST"):
        return S.SUSPENDED
    if "r" in code or "t" in code:
        return S.RUNNING
    if "q" in code or "w" in code or "h" in code:
        return S.PENDING
    return S.UNKNOWN


class SGEAdapter(QueueAdapter):
    q_type = "SGE"
    template_name = "SGE_template.txt"
    commands = {"submit_cmd": "qsub", "status_cmd": "qstat", "history_cmd": "qacct", "cancel_cmd": "qdel"}
    cancel_gone = _GONE

    def _submit_argv(self, script: str) -> list:
        return self._cmd("submit_cmd", "-terse", script)

    def _parse_job_id(self, stdout: str) -> Optional[str]:
        """-terse prints "123", or "123.1-4:1" for an array."""
        match = re.match(r"\s*(\d+)", stdout)
        return match.group(1) if match else None

    def _jobs(self, queue: Optional[str] = None) -> Dict[str, tuple]:
        """job number -> (name, state); -xml because the text table cuts names at 10."""
        argv = self._cmd("status_cmd", "-xml", "-u", self.user, *(["-q", queue] if queue else []))
        _, out, _ = self._call(argv)
        try:
            root = ET.fromstring(out)
        except ET.ParseError as exc:
            raise QueueError(f"{' '.join(argv)} printed XML we cannot read: {exc}") from exc
        return {
            job.findtext("JB_job_number", ""): (
                job.findtext("JB_name", ""),
                sge_state(job.findtext("state", "")),
            )
            for job in root.iter("job_list")
        }

    def count_jobs(self, job_name: Optional[str] = None, queue: Optional[str] = None) -> int:
        return sum(
            1
            for name, state in self._jobs(queue).values()
            if not state.finished and (not job_name or name == job_name)
        )

    def job_state(self, job_id: str) -> Optional[JobState]:
        """The live queue first, then the accounting file for finished jobs."""
        live = self._jobs().get(str(job_id))
        if live:
            return live[1]
        argv = self._cmd("history_cmd", "-j", str(job_id))
        rc, out, err = self._call(argv, check=False)
        if rc != 0:
            if _GONE.search(err + out):
                return None
            raise QueueError(self._failure(argv, rc, out, err))
        fields = dict(line.split(None, 1) for line in out.splitlines() if len(line.split()) > 1)
        failed = fields.get("failed", "0").split()[0]
        status = fields.get("exit_status", "0").split()[0]
        return S.COMPLETED if failed == "0" and status == "0" else S.FAILED
