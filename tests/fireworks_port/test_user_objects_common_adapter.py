"""Port of FireWorks 2.1.x fireworks/user_objects/queue_adapters/tests/test_common_adapter.py.

FireWorks' test parses recorded scheduler output with CommonAdapter's private
``_parse_njobs``/``_parse_jobid``/``_get_status_cmd``. starshell's adapters are
other classes, so the same scenarios go through the public methods
(``submit_to_queue``, ``get_njobs_in_queue``) with ``_q_commands_override``
pointing at stand-in scheduler commands that record their arguments and print
what the real command prints for the same jobs.

Covered elsewhere: the serialized form and ``load_object`` of a CommonAdapter
(tests/test_common_adapter.py::test_serialized_form_is_fireworks_and_qlaunchs).

Differences asserted here (listed in docs/fireworks.md): starshell asks the
schedulers in machine-readable forms (``sbatch --parsable``, ``qsub -terse``,
``qselect``, ``qstat -xml``) instead of parsing their tables; PBS job ids keep
their server suffix; PBS counts through ``select_cmd`` (qselect), so that is the
command to override for counting; Cobalt is not supported.
"""

import os
import stat

import pytest
from ruamel.yaml import YAML

from launchpad.serialization import load_object, load_object_from_file
from queue_adapters import CommonAdapter

TEMPLATE = """#!/bin/bash
#PBS -l nodes=$${nnodes}:ppn=$${ppnode}
#PBS -l walltime=$${walltime}
#PBS -q $${queue}
#PBS -N $${job_name}
cd $${launch_dir}
$${rocket_launch}
# $${hello}"""

PBS_YAML = """_fw_name: CommonAdapter
_fw_q_name: my_queue
_fw_q_type: PBS
queue: home
walltime: 240:00:00
job_name: test_job
nnodes: 1
ppnode: 8
account: username
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stand_in(directory, name, output):
    """An executable that logs its arguments to ``name``.log and prints ``output``."""
    path = directory / name
    (directory / f"{name}.out").write_text(output)
    path.write_text(f'#!/bin/sh\necho "$@" >> "{directory / name}.log"\ncat "{directory / name}.out"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def logged(directory, name):
    return (directory / f"{name}.log").read_text()


def test_template_file_and_its_values_survive_serialization(here):
    (here / "mypbs.txt").write_text(TEMPLATE)
    p = CommonAdapter(q_type="PBS", q_name="hello", template_file="mypbs.txt", hello="world", queue="random")
    for adapter in (p, load_object(p.to_dict())):
        lines = adapter.get_script_str("here").split("\n")
        assert "# world" in lines and "#PBS -q random" in lines
    default = CommonAdapter(q_type="PBS", q_name="hello", hello="world", queue="random")
    assert default.get_script_str("here").split("\n")[-1] != "# world"  # the default template has no hello
    assert "_fw_template_file" not in default.to_dict()


def test_a_fireworks_qadapter_file_loads_and_writes_its_script(here):
    (here / "pbs.yaml").write_text(PBS_YAML)
    loaded = load_object_from_file("pbs.yaml")
    assert isinstance(loaded, CommonAdapter) and (loaded.q_type, loaded.q_name) == ("PBS", "my_queue")
    assert "#PBS -l walltime=240:00:00" in loaded.get_script_str(".").splitlines()
    p = CommonAdapter(q_type="PBS", q_name="hello", ppnode="8:ib", nnodes=1, hello="world", queue="random")
    assert "#PBS -l nodes=1:ppn=8:ib" in p.get_script_str(".").splitlines()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(p.to_dict(), here / "dumped.yaml")
    assert load_object_from_file("dumped.yaml") == p


SGE_XML = """<?xml version='1.0'?>
<job_info>
  <queue_info/>
  <job_info>
    {}
  </job_info>
</job_info>
""".format(
    "\n    ".join(
        f'<job_list state="pending"><JB_job_number>{n}</JB_job_number><JB_name>test{n}</JB_name>'
        f"<JB_owner>ongsp</JB_owner><state>qw</state></job_list>"
        for n in (3, 4, 5)
    )
)


@pytest.mark.parametrize(
    "q_type, queue, command, printed, asked, count",
    [
        # qselect lists the user's queued and running jobs in that queue, one id a line
        ("PBS", "home-ong", "select_cmd", "1039795.tscc-mgr.local\n", "-u ongsp -s QRHW -q home-ong", 1),
        ("SGE", "all.q", "status_cmd", SGE_XML, "-xml -u ongsp -q all.q", 3),
        ("SLURM", "debug", "status_cmd", "11 RUNNING\n12 PENDING\n", "-h -u ongsp -o %i %T -p debug", 2),
    ],
    ids=["PBS", "SGE", "SLURM"],
)
def test_jobs_are_counted_in_the_adapters_queue(here, q_type, queue, command, printed, asked, count):
    fake = stand_in(here, "status", printed)
    p = CommonAdapter(
        q_type=q_type, q_name="hello", queue=queue, hello="world", _q_commands_override={command: fake}
    )
    assert p.get_njobs_in_queue("ongsp") == count
    assert logged(here, "status").strip() == asked


def test_cobalt_is_not_supported():
    with pytest.raises(ValueError, match="Cobalt is not a supported queue type"):
        CommonAdapter(q_type="Cobalt", q_name="hello", queue="prod-capability", hello="world")


@pytest.mark.parametrize(
    "q_type, printed, asked_flag, job_id",
    [
        ("SLURM", "1234\n", "--parsable", 1234),
        ("PBS", "2341.whatever\n", "", "2341.whatever"),  # FireWorks: 2341
        ("SGE", "44275\n", "-terse", 44275),
    ],
    ids=["SLURM", "PBS", "SGE"],
)
def test_the_job_id_comes_back_from_submission(here, q_type, printed, asked_flag, job_id):
    fake = stand_in(here, "submit", printed)
    p = CommonAdapter(
        q_type=q_type, q_name="hello", queue="home-ong", _q_commands_override={"submit_cmd": fake}
    )
    (here / "job.sh").write_text(p.get_script_str(str(here)))
    assert p.submit_to_queue(str(here / "job.sh")) == job_id
    assert asked_flag in logged(here, "submit") and "job.sh" in logged(here, "submit")


def test_command_overrides_from_a_qadapter_file(here):
    submit = stand_in(here, "my_qsubmit", "77.server\n")
    select = stand_in(here, "my_qselect", "77.server\n78.server\n")
    (here / "pbs_override.yaml").write_text(
        PBS_YAML + f"_q_commands_override:\n    submit_cmd: {submit}\n    select_cmd: {select}\n"
    )
    p = load_object_from_file("pbs_override.yaml")
    (here / "job.sh").write_text(p.get_script_str(str(here)))
    assert p.submit_to_queue(str(here / "job.sh")) == "77.server"
    assert p.get_njobs_in_queue("my_name") == 2
    assert logged(here, "my_qselect").split()[:2] == ["-u", "my_name"]
    # the file is not changed by reading it: a second adapter from it is the same
    assert load_object_from_file("pbs_override.yaml").to_dict() == p.to_dict()
    assert os.path.exists(here / "my_qsubmit.log")
