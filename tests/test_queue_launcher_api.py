"""FireWorks' queue launcher API (``queue_adapters.queue_launcher``): launch_rocket_to_queue
and rapidfire with a qadapter object, on both stores with a recording adapter, and
(marker slurm) a FireWorks-style script submitting to the real local Slurm."""

import logging
import subprocess
import sys
import textwrap
import time
import uuid

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)

from launchpad import Firework, FWorker, LaunchPad, ScriptTask
from launchpad.serialization import load_object, load_object_from_file
from launchpad.stores import SQLiteStore
from queue_adapters import CommonAdapter, run_subprocess
from queue_adapters.queue_adapter import QueueAdapterBase
from queue_adapters.queue_launcher import launch_rocket_to_queue, rapidfire
from tests.user_commands import new_user

TEMPLATE = "#!/bin/sh\n#Q name=$${job_name}\n#Q acct=$${account}\ncd $${launch_dir}\n$${rocket_launch}\n"


class RecordingAdapter(QueueAdapterBase):
    """A batch system that keeps the scripts it is given; ``refuse`` makes it fail."""

    _fw_name = "{{tests.test_queue_launcher_api.RecordingAdapter}}"
    submitted: list = []
    refuse = False
    queued = 0

    def __init__(self, params=None, **kwargs):
        super().__init__()
        self.update(params or {}, **kwargs)

    def submit_to_queue(self, script_file):
        if RecordingAdapter.refuse:
            return None
        with open(script_file) as handle:
            RecordingAdapter.submitted.append(handle.read())
        return 100 + len(RecordingAdapter.submitted)

    def get_njobs_in_queue(self, username=None):
        return RecordingAdapter.queued


@pytest.fixture
def qadapter(tmp_path, monkeypatch):
    template = tmp_path / "template.txt"
    template.write_text(TEMPLATE)
    monkeypatch.setattr(RecordingAdapter, "template_file", str(template))
    monkeypatch.setattr(RecordingAdapter, "submitted", [])
    monkeypatch.setattr(RecordingAdapter, "refuse", False)
    monkeypatch.setattr(RecordingAdapter, "queued", 0)
    return RecordingAdapter(rocket_launch="rlaunch singleshot", job_name="pilot")


def _add(lp, n, **spec):
    return [
        lp.add_wf(Firework(ScriptTask.from_str("true"), spec=dict(spec), name=f"fw {i}")) for i in range(n)
    ]


def test_one_job_in_a_new_launcher_dir_and_none_without_work(lp, qadapter, tmp_path):
    assert launch_rocket_to_queue(lp, FWorker(), qadapter, str(tmp_path)) is None  # nothing READY
    _add(lp, 1)
    job = launch_rocket_to_queue(lp, None, qadapter, str(tmp_path), create_launcher_dir=True)
    assert job == 101
    (launcher,) = tmp_path.glob("launcher_*")
    script = (launcher / "FW_submit.script").read_text()
    assert script.splitlines() == ["#!/bin/sh", "#Q name=pilot", f"cd {launcher}", "rlaunch singleshot"]
    assert (launcher / "FW_job_id").read_text() == "101\n"
    assert lp.get_fw_by_id(1).state == "READY"  # not reserved: the job's rocket takes one
    assert launch_rocket_to_queue(lp, None, qadapter, str(tmp_path)) == 102  # here, no new dir
    assert (tmp_path / "FW_submit.script").exists()


def test_reservation_mode_reserves_names_and_ties_the_job(lp, qadapter, tmp_path):
    _add(lp, 2, _queueadapter={"account": "proj7"})
    job = launch_rocket_to_queue(lp, None, qadapter, str(tmp_path), reserve=True, fw_id=2)
    assert job == 101
    assert lp.get_fw_by_id(2).state == "RESERVED" and lp.get_fw_by_id(1).state == "READY"
    assert lp.get_fw_ids_by_reservation(101) == [2]
    script = RecordingAdapter.submitted[0]
    assert "#Q name=fw_1" in script and "#Q acct=proj7" in script
    assert "rlaunch singleshot --fw_id 2" in script
    assert qadapter["rocket_launch"] == "rlaunch singleshot"  # the caller's object is not changed


def test_a_refused_submission_gives_the_reservation_back(lp, qadapter, tmp_path, caplog):
    _add(lp, 1)
    RecordingAdapter.refuse = True
    with caplog.at_level(logging.ERROR, "qlaunch"):
        assert launch_rocket_to_queue(lp, None, qadapter, str(tmp_path), reserve=True) is False
    assert lp.get_fw_by_id(1).state == "READY"
    assert "could not be submitted" in caplog.text


def test_a_launch_dir_in_the_spec_is_where_a_reserved_job_runs(lp, qadapter, tmp_path):
    _add(lp, 1, _launch_dir=str(tmp_path / "scratch" / "here"))
    launch_rocket_to_queue(lp, None, qadapter, str(tmp_path), reserve=True, create_launcher_dir=True)
    assert (tmp_path / "scratch" / "here" / "FW_submit.script").exists()
    assert not list(tmp_path.glob("launcher_*"))
    assert lp.get_fw_by_id(1).launches[-1].launch_dir == str(tmp_path / "scratch" / "here")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(launcher_dir="/no/such/dir"), "does not exist"),
        (dict(reserve=True, fill_mode=True), "fill_mode"),
        (dict(fw_id=1), "reservation mode"),
    ],
)
def test_inconsistent_arguments_are_value_errors(lp, qadapter, tmp_path, kwargs, message):
    kwargs.setdefault("launcher_dir", str(tmp_path))
    with pytest.raises(ValueError, match=message):
        launch_rocket_to_queue(lp, None, qadapter, **kwargs)
    offline = RecordingAdapter(rocket_launch="rlaunch singleshot --offline")
    with pytest.raises(ValueError, match="reservation mode"):
        launch_rocket_to_queue(lp, None, offline, str(tmp_path))
    rapid = RecordingAdapter(rocket_launch="rlaunch rapidfire")
    with pytest.raises(ValueError, match="singleshot"):
        launch_rocket_to_queue(lp, None, rapid, str(tmp_path), reserve=True)


def test_rapidfire_fills_blocks_and_stops_at_nlaunches(lp, qadapter, tmp_path):
    _add(lp, 3)
    slept = []
    n = rapidfire(lp, FWorker(), qadapter, str(tmp_path), nlaunches=3, njobs_block=2, sleep=slept.append)
    assert n == 3 and len(RecordingAdapter.submitted) == 3
    blocks = sorted(tmp_path.glob("block_*"))
    assert [len(list(b.glob("launcher_*"))) for b in blocks] == [2, 1]
    assert slept == [5, 5]  # FireWorks' QUEUE_UPDATE_INTERVAL after each job but the last
    again = rapidfire(lp, None, qadapter, str(tmp_path), nlaunches=1, sleep=slept.append)
    assert again == 1 and len(list(blocks[-1].glob("launcher_*"))) == 2  # the newest block reused


def test_rapidfire_reserves_until_nothing_is_ready(lp, qadapter, tmp_path):
    _add(lp, 2)
    n = rapidfire(
        lp, None, qadapter, str(tmp_path), reserve=True, block_dir="block_mine", sleep=lambda s: None
    )
    assert n == 2 and {lp.get_fw_by_id(i).state for i in (1, 2)} == {"RESERVED"}
    assert len(list((tmp_path / "block_mine").glob("launcher_*"))) == 2


def test_rapidfire_stops_at_njobs_queue(lp, qadapter, tmp_path):
    _add(lp, 5)
    RecordingAdapter.queued = 3
    rounds = []
    n = rapidfire(lp, None, qadapter, str(tmp_path), nlaunches=2, njobs_queue=4, sleep=rounds.append)
    assert n == 2 and rounds[:2] == [5, 60]  # one job fits; the next round's count is asked again


def test_rapidfire_logs_errors_as_fireworks_does(lp, qadapter, tmp_path, caplog):
    _add(lp, 1)
    with caplog.at_level(logging.ERROR, "qlaunch"):
        assert rapidfire(lp, None, qadapter, str(tmp_path), block_dir="mine", sleep=lambda s: None) == 0
        RecordingAdapter.refuse = True
        assert rapidfire(lp, None, qadapter, str(tmp_path), sleep=lambda s: None) == 0
    assert "must be named block_*" in caplog.text and "could not be submitted" in caplog.text
    with pytest.raises(ValueError, match="does not exist"):
        rapidfire(lp, None, qadapter, str(tmp_path / "missing"))


def test_a_subclass_serializes_and_fills_its_template(qadapter, tmp_path):
    again = load_object(qadapter.to_dict())
    assert type(again).__name__ == "RecordingAdapter" and again["rocket_launch"] == "rlaunch singleshot"
    assert again["_fw_name"] == RecordingAdapter._fw_name  # kept in the dict, as FireWorks' from_dict does
    qadapter["unknown_key"] = 1
    with pytest.warns(UserWarning, match="unknown_key"):
        script = qadapter.get_script_str(str(tmp_path))
    assert "acct" not in script and f"cd {tmp_path}" in script
    assert isinstance(CommonAdapter("SLURM"), QueueAdapterBase)


def test_a_common_adapter_loaded_from_my_qadapter_yaml_is_accepted(lp, tmp_path, monkeypatch):
    sbatch = tmp_path / "sbatch"
    sbatch.write_text("#!/bin/sh\necho 77\n")  # sbatch --parsable's answer
    sbatch.chmod(0o755)
    (tmp_path / "my_qadapter.yaml").write_text(
        "_fw_name: CommonAdapter\n_fw_q_type: SLURM\nrocket_launch: rlaunch singleshot\n"
        f"_q_commands_override: {{submit_cmd: {sbatch}}}\n"
    )
    qadapter = load_object_from_file(str(tmp_path / "my_qadapter.yaml"))
    _add(lp, 1)
    assert launch_rocket_to_queue(lp, None, qadapter, str(tmp_path), reserve=True) == 77
    assert "#SBATCH" in (tmp_path / "FW_submit.script").read_text()
    assert lp.get_fw_ids_by_reservation(77) == [1]


@pytest.mark.slurm
def test_a_fireworks_script_submits_to_the_real_slurm(slurm_up, tmp_path):  # noqa: F811
    """A FireWorks queue-launcher script with only its imports changed, run as users run
    one, submits to the real Slurm; the jobs' rockets complete the fireworks."""
    user = new_user(tmp_path)
    tag = uuid.uuid4().hex[:8]
    (user.work / "script.py").write_text(
        textwrap.dedent(
            f"""
            from launchpad import Firework, FWorker, LaunchPad, ScriptTask
            from launchpad.serialization import load_object_from_file
            from queue_adapters.common_adapter import CommonAdapter
            from queue_adapters.queue_launcher import launch_rocket_to_queue, rapidfire

            lp = LaunchPad()
            lp.add_wf(Firework(ScriptTask.from_str("echo one > out.txt"), name="ss{tag}a"))
            lp.add_wf(Firework(ScriptTask.from_str("echo two > out.txt"), name="ss{tag}b"))
            CommonAdapter("SLURM", rocket_launch="rlaunch singleshot", walltime="00:05:00",
                          job_name="ss{tag}", nodes=1).to_file("my_qadapter.yaml")
            qadapter = load_object_from_file("my_qadapter.yaml")
            first = launch_rocket_to_queue(lp, FWorker(), qadapter, ".", reserve=True)
            n = rapidfire(lp, FWorker(), qadapter, launch_dir=".", nlaunches=1)
            print(first, n)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "script.py"],
        cwd=user.work,
        env=user.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first, n = done.stdout.split()
    jobs = [first]
    try:
        assert first.isdigit() and n == "1", done.stdout + done.stderr
        lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))  # the store the commands use
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and {lp.get_fw_by_id(i).state for i in (1, 2)} != {"COMPLETED"}:
            time.sleep(0.5)
        assert {lp.get_fw_by_id(i).state for i in (1, 2)} == {"COMPLETED"}, _logs(user)
        assert lp.get_fw_ids_by_reservation(first) == [1]
        assert (user.work / "out.txt").read_text() == "one\n"  # reserved: ran where it was queued
        (block,) = user.work.glob("block_*")
        assert [p.read_text() for p in block.glob("launcher_*/out.txt")] == ["two\n"]
    finally:
        for job in jobs:
            run_subprocess(["scancel", str(job)])
        run_subprocess(["scancel", "-n", f"ss{tag}"])


def _logs(user):
    return "\n".join(f"--- {p}\n{p.read_text()}" for p in sorted(user.work.rglob("slurm-*.out")))


def test_setup_offline_job_is_importable_by_fireworks_module_path(lp, tmp_path, monkeypatch):
    from queue_adapters.queue_launcher import setup_offline_job

    _add(lp, 1)
    fw, launch_id = lp.reserve_fw(FWorker(), launch_dir=str(tmp_path))
    monkeypatch.chdir(tmp_path)
    setup_offline_job(lp, fw, launch_id)
    assert (tmp_path / "FW.json").exists() and (tmp_path / "FW_offline.json").exists()


def test_offline_reservation_writes_the_offline_files_where_the_job_runs(lp, qadapter, tmp_path):
    _add(lp, 1)
    offline = RecordingAdapter(rocket_launch="rlaunch singleshot --offline")
    assert launch_rocket_to_queue(lp, None, offline, str(tmp_path), reserve=True, create_launcher_dir=True)
    (launcher,) = tmp_path.glob("launcher_*")
    assert (launcher / "FW.json").exists() and (launcher / "FW_offline.json").exists()
    assert "rlaunch singleshot --offline --fw_id 1" in RecordingAdapter.submitted[0]
