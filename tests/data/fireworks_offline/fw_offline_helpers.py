"""FireWorks-side helpers for make_files.py, imported inside FireWorks' venv.

The tasks are run by FireWorks' PyTask in FireWorks' own offline rocket, so
the files hold what FireWorks writes for an FWAction and for a failure. The
queue adapter stands in for a batch system: FireWorks' qlaunch code
(``launch_rocket_to_queue``) reserves the firework, writes FW.json and
FW_offline.json and the job script; "submitting" runs that script in the
background, as a batch system would run it on a node.
"""

import os
import subprocess

from fireworks import Firework, FWAction, ScriptTask
from fireworks.queue.queue_adapter import QueueAdapterBase


def act(n):
    """Stored data, a spec update for the children, and one added firework."""
    extra = Firework(ScriptTask.from_str("echo added"), name="added child")
    return FWAction(stored_data={"n": n, "square": n * n}, update_spec={"grown": n}, additions=[extra])


def fail(message):
    raise ValueError(message)


class LocalShellAdapter(QueueAdapterBase):
    """A batch system that runs each job script at once, in the background, on this machine."""

    _fw_name = "{{fw_offline_helpers.LocalShellAdapter}}"
    q_name = "local shell"
    template_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "job_template.txt")

    def __init__(self, params=None, **kwargs):
        super().__init__()  # a defaultdict: FireWorks' from_dict passes the dict positionally
        self.update(params or {}, **kwargs)

    def submit_to_queue(self, script_file):
        job = subprocess.Popen(
            ["bash", script_file],
            cwd=os.getcwd(),
            stdout=open("job.out", "w"),  # noqa: SIM115  (the job owns it until it ends)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with open("job.pid", "w") as fh:
            fh.write(str(job.pid))
        return job.pid

    def get_njobs_in_queue(self, username=None):
        return 0

    def _get_status_cmd(self, username):
        return ["true"]

    def _parse_jobid(self, output_str):
        return output_str

    def _parse_njobs(self, output_str, username):
        return 0
