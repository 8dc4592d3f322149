"""``qlaunch rapidfire -m`` counts the pilots in the qadapter's own queue, as FireWorks
counts through the qadapter, on the real one-node Slurm with a second partition.

The pilots are held (``sbatch --hold``), so they stay PENDING and nothing runs;
each test's jobs are cancelled and its partition deleted at the end.
"""

import uuid

import pytest
from test_queue_commands_real import shell  # noqa: F401  (a user's terminal, jobs cancelled after)
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)

from queue_adapters import run_subprocess

pytestmark = pytest.mark.slurm


def sh(*argv):
    rc, out, err = run_subprocess(list(argv))
    assert rc == 0, (argv, out, err)
    return out


@pytest.fixture
def other_partition(slurm_up):  # noqa: F811
    """A second partition on the one node, for this test only."""
    name = f"ss{uuid.uuid4().hex[:8]}"
    sh("scontrol", "create", f"PartitionName={name}", "Nodes=ALL", "State=UP", "MaxTime=INFINITE")
    yield name
    run_subprocess(["scancel", "-p", name])
    run_subprocess(["scontrol", "delete", f"PartitionName={name}"])


def held_job(name, partition):
    sh("sbatch", "--hold", "-p", partition, "-J", name, "-t", "5", "--wrap", "true")


def queued(name, partition):
    return len(sh("squeue", "-h", "-n", name, "-p", partition, "-o", "%i").split())


def test_maxjobs_queue_counts_the_pilots_in_the_qadapters_queue(shell, other_partition):  # noqa: F811
    default = sh("sinfo", "-h", "-o", "%P").split()[0].rstrip("*")
    shell.qadapter(queue=default, _q_commands_override={"submit_cmd": "sbatch --hold"})
    for _ in range(2):  # pilots of the same name, queued by another qadapter elsewhere
        held_job(shell.job_name, other_partition)
    held_job(f"{shell.job_name}-other", default)  # a job of ours that is not a pilot
    for _ in range(5):
        shell.add_fw()
    done = shell("qlaunch", "rapidfire", "-m", "3", "--sleep", "1", "--timeout", "0.5")
    assert done.returncode == 0, done.stderr
    assert queued(shell.job_name, default) == 3  # counted 0 here (was 2: every partition's)
    assert queued(shell.job_name, other_partition) == 2
    assert "0 of at most 3 pilot job(s) queued: submitted 3" in done.stderr
    again = shell("qlaunch", "rapidfire", "-m", "4", "--sleep", "1", "--timeout", "0.5")
    assert again.returncode == 0, again.stderr
    assert "3 of at most 4 pilot job(s) queued: submitted 1" in again.stderr
    assert queued(shell.job_name, default) == 4
