"""FireWorks' CommonAdapter object over the per-system adapters: its serialized form, the
script it writes, and (marker slurm) a real submission and count on the local Slurm."""

import os
import time
import uuid

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)

from launchpad.serialization import load_object, load_object_from_file
from queue_adapters import CommonAdapter, run_subprocess


def _adapter(**extra):
    return CommonAdapter(
        "SLURM", rocket_launch="rlaunch singleshot", nodes=1, walltime="00:02:00", job_name="fwjob", **extra
    )


def test_serialized_form_is_fireworks_and_qlaunchs(tmp_path):
    adapter = _adapter()
    d = adapter.to_dict()
    assert d["_fw_name"] == "CommonAdapter" and d["_fw_q_type"] == "SLURM" and d["nodes"] == 1
    assert adapter["rocket_launch"] == "rlaunch singleshot"  # a dict, as FireWorks'
    again = load_object(d)
    assert isinstance(again, CommonAdapter) and again == adapter and again.q_type == "SLURM"
    adapter.to_file(str(tmp_path / "my_qadapter.yaml"))
    from_file = load_object_from_file(str(tmp_path / "my_qadapter.yaml"))
    assert from_file.to_dict() == d and CommonAdapter.from_file(str(tmp_path / "my_qadapter.yaml")) == adapter
    named = CommonAdapter("PBS", q_name="mycluster", template_file="t.txt", timeout=9, queue="q")
    back = CommonAdapter.from_dict(named.to_dict())
    assert (back.q_name, back.template_file, back.timeout) == ("mycluster", os.path.abspath("t.txt"), 9)


def test_unknown_queue_types_are_a_value_error():
    with pytest.raises(ValueError, match="MOAB is not a supported queue type"):
        CommonAdapter("MOAB")


def test_get_script_str_fills_the_template_and_drops_unset_lines(tmp_path):
    template = tmp_path / "t.txt"
    template.write_text(
        "#!/bin/sh\n#X --acct=$${account}\n#X --n=$${nodes}\ncd $${launch_dir}\n$${rocket_launch}\n"
    )
    script = _adapter(template_file=str(template)).get_script_str("/scratch/run1")
    assert script.splitlines() == ["#!/bin/sh", "#X --n=1", "cd /scratch/run1", "rlaunch singleshot"]
    assert "#SBATCH --nodes=1" in _adapter().get_script_str("/x")


def test_a_failing_scheduler_gives_none_as_fireworks(tmp_path, caplog):
    broken = _adapter(_q_commands_override={"submit_cmd": "false", "status_cmd": "false"})
    script = tmp_path / "job.sh"
    script.write_text(broken.get_script_str(str(tmp_path)))
    assert broken.submit_to_queue(str(script)) is None
    assert broken.get_njobs_in_queue() is None
    assert "failed" in caplog.text
    with pytest.raises(ValueError, match="cannot find the script file"):
        broken.submit_to_queue(str(tmp_path / "missing.sh"))


@pytest.mark.slurm
def test_submit_and_count_on_the_real_slurm(slurm_up, tmp_path):  # noqa: F811
    name = f"ss-ca-{uuid.uuid4().hex[:8]}"
    adapter = CommonAdapter("SLURM", rocket_launch="sleep 30", nodes=1, walltime="00:01:00", job_name=name)
    script = tmp_path / "FW_submit.script"
    script.write_text(adapter.get_script_str(str(tmp_path)))
    job_id = adapter.submit_to_queue(str(script))
    try:
        assert isinstance(job_id, int)
        deadline = time.time() + 30
        while adapter.get_njobs_in_queue() < 1 and time.time() < deadline:
            time.sleep(0.5)
        assert adapter.get_njobs_in_queue() >= 1
    finally:
        run_subprocess(["scancel", str(job_id)])
