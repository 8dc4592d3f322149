"""The Slurm adapter against the real local Slurm that ci/slurm-up.sh starts.

Recorded answers cannot tell whether sbatch accepts what we render; these can.
Each test names its jobs uniquely, so counts never see another test's jobs.
"""

import os
import time
import uuid

import pytest

from launchpad.errors import QueueError
from queue_adapters import JobState, get_adapter, run_subprocess

pytestmark = pytest.mark.slurm

POLL = 0.2
FIRST_JOB_TIMEOUT = 30  # the scheduler's first pass after a fresh start adds about 3 s


@pytest.fixture(scope="module")
def slurm_up():
    """Skip when Slurm is not running here; in CI that is a failure, not a skip."""
    rc, out, err = run_subprocess(["scontrol", "ping"], timeout=15)
    if rc != 0 or "is UP" not in out:
        why = (err or out).strip() or f"exit code {rc}"
        message = f"Slurm is not reachable (scontrol ping: {why}); start it: bash ci/slurm-up.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def make_adapter(slurm_up, tmp_path):
    """Adapters whose jobs carry this test's own name; leftover jobs are cancelled."""
    made = []
    name = f"ss-{uuid.uuid4().hex[:10]}"

    def make(**params):
        adapter = get_adapter({"_fw_q_type": "SLURM", "rocket_launch": "true", "job_name": name, **params})
        made.append(adapter)
        return adapter

    yield make
    if made:
        run_subprocess(["scancel", "-n", name])


def submit(adapter, tmp_path, **overrides):
    script = adapter.write_script(tmp_path / f"job-{uuid.uuid4().hex[:6]}.sh", overrides)
    return adapter.submit(script.name, cwd=tmp_path)


def wait_for(adapter, job_id, *states, timeout=FIRST_JOB_TIMEOUT):
    end = time.monotonic() + timeout
    state = None
    while time.monotonic() < end:
        state = adapter.job_state(job_id)
        if state in states:
            return state
        time.sleep(POLL)
    pytest.fail(f"job {job_id} is {state}, not {'/'.join(map(str, states))} after {timeout} s")


def test_submit_count_and_complete(make_adapter, tmp_path):
    adapter = make_adapter(rocket_launch="echo ran-$SLURM_JOB_ID; sleep 1", walltime="0:05:00")
    job_id = submit(adapter, tmp_path)
    assert job_id.isdigit()
    assert adapter.count_jobs(adapter.job_name) == 1
    assert adapter.count_jobs() >= 1
    rc, limit, _ = run_subprocess(["squeue", "-h", "-j", job_id, "-t", "all", "-o", "%l"])
    assert (rc, limit.strip()) == (0, "5:00")
    wait_for(adapter, job_id, JobState.COMPLETED)
    assert adapter.count_jobs(adapter.job_name) == 0
    assert (tmp_path / f"slurm-{job_id}.out").read_text() == f"ran-{job_id}\n"


def test_failing_job_is_failed(make_adapter, tmp_path):
    adapter = make_adapter(rocket_launch="exit 3")
    job_id = submit(adapter, tmp_path)
    wait_for(adapter, job_id, JobState.FAILED)


def test_cancel_running_and_pending_jobs(make_adapter, tmp_path):
    running = make_adapter(rocket_launch="sleep 120")
    run_id = submit(running, tmp_path)
    (tmp_path / "hold.txt").write_text(
        "#!/bin/bash\n#SBATCH --job-name=$${job_name}\n#SBATCH --begin=now+1hour\n$${rocket_launch}\n"
    )
    held = make_adapter(rocket_launch="sleep 120", template_file=str(tmp_path / "hold.txt"))
    pend_id = submit(held, tmp_path)
    wait_for(running, run_id, JobState.RUNNING)
    assert held.job_state(pend_id) is JobState.PENDING
    assert running.count_jobs(running.job_name) == 2
    running.cancel(run_id)
    running.cancel(pend_id)
    wait_for(running, run_id, JobState.CANCELLED, timeout=15)
    wait_for(running, pend_id, JobState.CANCELLED, timeout=15)
    assert running.count_jobs(running.job_name) == 0
    running.cancel(run_id)  # cancelling a finished job is not an error


def test_bad_partition_is_a_queue_error_with_sbatchs_message(make_adapter, tmp_path):
    adapter = make_adapter(queue="no-such-partition")
    with pytest.raises(QueueError) as info:
        submit(adapter, tmp_path)
    assert "invalid partition specified: no-such-partition" in str(info.value)


def test_unknown_job_id_has_no_state(make_adapter):
    assert make_adapter().job_state("987654321") is None


def test_multi_day_walltime_is_accepted(make_adapter, tmp_path):
    adapter = make_adapter(walltime="2-00:00:00", rocket_launch="sleep 30")
    job_id = submit(adapter, tmp_path, walltime="36:00:00")
    rc, limit, _ = run_subprocess(["squeue", "-h", "-j", job_id, "-t", "all", "-o", "%l"])
    assert (rc, limit.strip()) == (0, "1-12:00:00")
    adapter.cancel(job_id)
