"""Re-record slurm.json from the real local Slurm (run ci/slurm-up.sh first, as root).

    PYTHONPATH=. python tests/data/queue/record_slurm.py [--with-outage]

Each entry is one adapter call: the argv of every command it ran and Slurm's
answer, so the unit tests replay exactly what Slurm said.  Job ids and the user
are whatever this machine gave; the tests read them from the file.
--with-outage also records squeue while slurmctld is stopped (it runs
ci/slurm-down.sh --keep-munge and ci/slurm-up.sh around that one call).
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from launchpad.errors import QueueError
from queue_adapters import get_adapter, run_subprocess

HERE = Path(__file__).resolve().parent
QADAPTER = {"_fw_q_type": "SLURM", "rocket_launch": "sleep 30", "job_name": "pilot", "walltime": 5}


class Recorder:
    """A run_command that runs the real thing and keeps every answer."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv, cwd=None, timeout=None):
        rc, out, err = run_subprocess(argv, cwd=cwd, timeout=timeout or 60)
        self.calls.append({"argv": list(argv), "returncode": rc, "stdout": out, "stderr": err})
        return rc, out, err

    def take(self):
        calls, self.calls = self.calls, []
        return calls


def wait_state(adapter, job_id, wanted, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if str(adapter.job_state(job_id)) in wanted:
            return
        time.sleep(0.2)
    raise SystemExit(f"job {job_id} never reached {wanted}")


def main():
    rec = Recorder()
    out = {}

    def keep(name, call, *args):
        rec.take()
        try:
            call(*args)
        except QueueError:  # the recording is what we want; the tests check the error
            pass
        out[name] = rec.take()

    pilot = get_adapter(QADAPTER, run_command=rec, user="root")
    other = get_adapter({**QADAPTER, "job_name": "other"}, run_command=rec, user="root")
    quick = get_adapter({**QADAPTER, "rocket_launch": "true"}, run_command=rec, user="root")
    bad = get_adapter({**QADAPTER, "queue": "nope"}, run_command=rec, user="root")
    with tempfile.TemporaryDirectory() as tmp:
        for name, adapter in (("pilot", pilot), ("other", other), ("quick", quick), ("bad", bad)):
            adapter.write_script(Path(tmp, f"{name}.sh"))
        rec.take()
        done = quick.submit("quick.sh", cwd=tmp)
        out["sbatch_ok"] = rec.take()
        wait_state(quick, done, {"COMPLETED"})
        keep("squeue_state_completed", quick.job_state, done)
        keep("sbatch_bad_partition", bad.submit, "bad.sh", tmp)
        ids = [pilot.submit("pilot.sh", cwd=tmp) for _ in range(5)]
        ids.append(other.submit("other.sh", cwd=tmp))
        wait_state(pilot, ids[0], {"RUNNING"})
        time.sleep(1)
        keep("squeue_count_all", pilot.count_jobs)
        keep("squeue_count_pilot", pilot.count_jobs, "pilot")
        keep("squeue_state_running", pilot.job_state, ids[0])
        keep("squeue_state_pending", pilot.job_state, ids[-1])
        keep("scancel_ok", pilot.cancel, ids[0])
        wait_state(pilot, ids[0], {"CANCELLED"})
        keep("squeue_state_cancelled", pilot.job_state, ids[0])
        for job_id in ids[1:]:
            pilot.cancel(job_id)
        keep("squeue_count_none", pilot.count_jobs, "no-such-name")
        keep("state_unknown_id", pilot.job_state, "999999")
        keep("scancel_unknown", pilot.cancel, "999999")
        for source in ("-X", "-c"):  # what the history fallback reads once squeue forgets
            rec(["sacct", source, "-j", done, "-n", "-P", "-o", "JobID,State"])
        out["sacct_finished"] = rec.take()
    if "--with-outage" in sys.argv:
        ci = HERE.parents[2] / "ci"
        subprocess.run(["bash", str(ci / "slurm-down.sh"), "--keep-munge"], check=True)
        try:
            keep("squeue_controller_down", pilot.count_jobs)
        finally:
            subprocess.run(["bash", str(ci / "slurm-up.sh"), "--no-install"], check=True)
    out["_done_id"], out["_ids"] = done, ids
    (HERE / "slurm.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(out) - 2} calls in {HERE / 'slurm.json'}")


if __name__ == "__main__":
    main()
