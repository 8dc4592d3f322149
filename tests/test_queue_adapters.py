"""Queue adapters against recorded scheduler answers (tests/data/queue/README.md).

The fake ``run_command`` replays the answers in order and checks each argv, so
these tests pin both what we run and how we read the reply.
"""

import ast
import json
import os
import stat
from pathlib import Path

import pytest

from launchpad.errors import ConfigError, QueueError
from queue_adapters import (
    ADAPTERS,
    JobState,
    LSFAdapter,
    PBSAdapter,
    SGEAdapter,
    SlurmAdapter,
    get_adapter,
    load_qadapter,
    render_template,
    run_subprocess,
    walltime_seconds,
)
from queue_adapters.adapters.sge import sge_state
from queue_adapters.adapters.slurm import slurm_state

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "queue"
CORPUS = ROOT.parent / "shared" / "fireworks-corpus" / "queue"
CORPUS_FILES = sorted(CORPUS.glob("qadapter_*.yaml"))
SLURM = json.loads((DATA / "slurm.json").read_text())
BASE = {"rocket_launch": "rlaunch singleshot"}


class Replay:
    """A run_command that answers from recordings and checks what was asked."""

    def __init__(self, calls):
        self.calls = list(calls)
        self.cwds = []

    def __call__(self, argv, cwd=None, timeout=None):
        assert self.calls, f"unexpected command {argv}"
        call = self.calls.pop(0)
        assert argv == call["argv"]
        assert timeout and timeout > 0
        self.cwds.append(cwd)
        return call["returncode"], call["stdout"], call["stderr"]


def replay(scheduler, *scenarios, **params):
    """An adapter for ``scheduler`` whose commands get the recorded answers."""
    data = SLURM if scheduler == "SLURM" else json.loads((DATA / f"{scheduler.lower()}.json").read_text())
    runner = Replay(call for name in scenarios for call in data[name])
    user = "root" if scheduler == "SLURM" else "alice"
    adapter = get_adapter({**BASE, "_fw_q_type": scheduler, **params}, run_command=runner, user=user)
    return adapter, runner


def answer(argv, returncode=0, stdout="", stderr=""):
    return {"argv": argv, "returncode": returncode, "stdout": stdout, "stderr": stderr}


# ---------------------------------------------------------------- the FireWorks corpus
def test_corpus_is_there():
    if not CORPUS_FILES and os.environ.get("CI") != "true":
        pytest.skip(f"no FireWorks corpus at {CORPUS}")
    assert len(CORPUS_FILES) >= 6


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_qadapter_parses(path):
    config = load_qadapter(path)
    assert config.params["rocket_launch"].startswith("rlaunch")
    assert config.source == str(path)
    if config.q_type in ADAPTERS:
        script = get_adapter(config).render()
        assert "rlaunch" in script and "None" not in script and "$${" not in script
    else:
        with pytest.raises(QueueError, match="not supported yet"):
            get_adapter(config)


def test_corpus_types_map_to_our_names():
    types = {p.name: load_qadapter(p).q_type for p in CORPUS_FILES}
    if not types:
        pytest.skip("no corpus")
    assert types["qadapter_slurm.yaml"] == "SLURM"
    assert types["qadapter_pbs.yaml"] == "PBS"
    assert types["qadapter_cobalt.yaml"] == "Cobalt"


# ---------------------------------------------------------------- config
def test_load_from_file_fills_defaults_and_synonyms(tmp_path):
    path = tmp_path / "my_qadapter.yaml"
    path.write_text(
        "_fw_name: CommonAdapter\n_fw_q_type: torque\nrocket_launch: rlaunch\nnnodes: 2\nppn: 8\n"
    )
    config = load_qadapter(path)
    assert config.q_type == "PBS"
    assert config.params["job_name"] == get_adapter(config).job_name == "FW_job"
    assert (config.params["nodes"], config.params["ppnode"]) == (2, 8)
    assert isinstance(get_adapter(path), PBSAdapter)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("_fw_q_type: SLURM\nqueue: a: b\nrocket_launch: x\n", r"my\.yaml:2: not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        ("_fw_q_type: Condor\nrocket_launch: x\n", "'Condor' is not one of SLURM, PBS"),
        ("rocket_launch: x\n", "_fw_q_type is missing"),
        ("_fw_q_type: SLURM\n", "rocket_launch is missing"),
        ("_fw_q_type: SLURM\nrocket_launch: x\nwalltime: soon\n", "walltime 'soon'"),
        ("_fw_q_type: SLURM\nrocket_launch: x\nqueue: [a, b]\n", "queue must be a single value"),
        ("_fw_name: PBSAdapterNERSC\n_fw_q_type: PBS\nrocket_launch: x\n", "use CommonAdapter"),
        ("_fw_q_type: SLURM\nrocket_launch: x\ntemplate_file: nothere.txt\n", "cannot read template file"),
        ("_fw_q_type: SLURM\nrocket_launch: x\n_q_commands_override: sbatch\n", "must map names"),
        ("_fw_q_type: SLURM\nrocket_launch: x\n'bad-key': 1\n", "not a valid placeholder name"),
    ],
)
def test_config_errors_name_the_file_and_problem(tmp_path, text, problem):
    path = tmp_path / "my.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem) as info:
        load_qadapter(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        load_qadapter(tmp_path / "nope.yaml")


def test_unknown_command_override_is_refused():
    with pytest.raises(ConfigError, match="qsub_cmd not used by SLURM; known: submit_cmd"):
        get_adapter({**BASE, "_fw_q_type": "SLURM", "_q_commands_override": {"qsub_cmd": "x"}})


def test_command_override_replaces_the_executable():
    runner = Replay([answer(["ssh", "login1", "sbatch", "--parsable", "job.sh"], stdout="7\n")])
    adapter = get_adapter(
        {**BASE, "_fw_q_type": "SLURM", "_q_commands_override": {"submit_cmd": "ssh login1 sbatch"}},
        run_command=runner,
    )
    assert adapter.submit("job.sh") == "7"


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("1:00:00", 3600),
        ("00:02:00", 120),
        ("2-00:00:00", 172800),
        (90, 5400),
        ("90", 5400),
        (0.5, 30),
        ("5:30", 330),
        ("1-12", 129600),
        ("1-2:30", 95400),
        ("48:00:00", 172800),
        (None, None),
        ("", None),
    ],
)
def test_walltime_seconds(value, seconds):
    assert walltime_seconds(value) == seconds


@pytest.mark.parametrize("value", ["abc", "1:2:3:4", "1-", 0, -5, "0:00:00", True, [1]])
def test_walltime_seconds_refuses(value):
    with pytest.raises(ConfigError, match="walltime"):
        walltime_seconds(value)


# ---------------------------------------------------------------- rendering
def test_render_template_drops_lines_with_unset_values():
    text = "a=$${a}\nb=$${b} c=$${c}\nshell $HOME ${X}\nzero=$${z}\nempty=$${e}\n"
    assert (
        render_template(text, {"a": 1, "b": "x", "c": None, "z": 0, "e": ""})
        == "a=1\nshell $HOME ${X}\nzero=0\n"
    )


def test_slurm_script_has_only_the_lines_that_are_set():
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM", "walltime": "00:02:00"})
    script = adapter.render()
    assert script.startswith("#!/bin/bash\n")
    assert "#SBATCH --job-name=FW_job\n" in script
    assert "#SBATCH --time=00:02:00\n" in script
    assert "rlaunch singleshot\n" in script
    for absent in ("--account", "--partition", "--output", "cd ", "None", "$${"):
        assert absent not in script


def test_queueadapter_overrides_go_on_top_without_changing_the_config():
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM", "account": "chem", "walltime": 30})
    script = adapter.render(
        {"walltime": "2-00:00:00", "queue": "big", "account": None, "launch_dir": "/data/my run", "nodes": 2}
    )
    assert "#SBATCH --time=2-00:00:00\n" in script
    assert "#SBATCH --partition=big\n" in script
    assert "#SBATCH --nodes=2\n" in script
    assert 'cd "/data/my run"\n' in script
    assert "--account" not in script
    assert "#SBATCH --account=chem\n" in adapter.render()
    assert adapter.walltime_seconds() == 1800
    assert adapter.walltime_seconds({"walltime": "1:00:00"}) == 3600


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"_fw_q_type": "PBS"}, "cannot be changed per firework"),
        ({"walltime": "later"}, "_queueadapter: walltime 'later'"),
        ({"queue": {"a": 1}}, "queue must be a single value"),
    ],
)
def test_bad_overrides_are_config_errors(overrides, problem):
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"})
    with pytest.raises(ConfigError, match=problem):
        adapter.render(overrides)


@pytest.mark.parametrize(
    "q_type, walltime, line",
    [
        ("SLURM", "36:00:00", "#SBATCH --time=1-12:00:00"),
        ("PBS", "1-00:00:00", "#PBS -l walltime=24:00:00"),
        ("SGE", 10, "#$ -l h_rt=00:10:00"),
        ("LSF", "2:00:00", "#BSUB -W 2:00"),
        ("LSF", "0:01:30", "#BSUB -W 0:02"),
    ],
)
def test_each_scheduler_writes_walltime_its_own_way(q_type, walltime, line):
    script = get_adapter({**BASE, "_fw_q_type": q_type, "walltime": walltime}).render()
    assert line + "\n" in script


def test_pbs_template_uses_nodes_and_ppn_from_either_spelling():
    script = get_adapter({**BASE, "_fw_q_type": "PBS", "nodes": 2, "ppn": 4}).render()
    assert "#PBS -l nodes=2:ppn=4\n" in script
    assert 'cd "$PBS_O_WORKDIR"\n' in script


def test_every_adapter_has_its_template_in_package_data():
    for q_type in ADAPTERS:
        text = get_adapter({**BASE, "_fw_q_type": q_type}).template_text()
        assert "$${rocket_launch}" in text and "$${job_name}" in text


def test_user_template_file_relative_to_the_yaml(tmp_path):
    (tmp_path / "mine.txt").write_text("#!/bin/sh\n#X $${queue}\n#Y $${custom}\n$${rocket_launch}\n")
    path = tmp_path / "q.yaml"
    path.write_text("_fw_q_type: SLURM\nrocket_launch: go\ncustom: 7\n_fw_template_file: mine.txt\n")
    assert get_adapter(path).render() == "#!/bin/sh\n#Y 7\ngo\n"


def test_write_script_is_executable(tmp_path):
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"})
    path = adapter.write_script(tmp_path / "job.sh", {"job_name": "pilot"})
    assert path.read_text() == adapter.render({"job_name": "pilot"})
    assert path.stat().st_mode & stat.S_IXUSR


# ---------------------------------------------------------------- Slurm (recorded for real)
def test_slurm_submit_returns_the_job_id_and_runs_in_cwd():
    adapter, runner = replay("SLURM", "sbatch_ok")
    assert adapter.submit("quick.sh", cwd="/launch/dir") == SLURM["_done_id"]
    assert runner.cwds == ["/launch/dir"] and not runner.calls


def test_slurm_failed_submit_carries_sbatchs_own_words():
    adapter, _ = replay("SLURM", "sbatch_bad_partition")
    with pytest.raises(QueueError) as info:
        adapter.submit("bad.sh")
    assert "invalid partition specified: nope" in str(info.value)
    assert "exit code 1" in str(info.value)


@pytest.mark.parametrize(
    "stdout, job_id", [("123;cluster2\n", "123"), ("\n", None), ("sbatch: warning\n", None)]
)
def test_slurm_parsable_output(stdout, job_id):
    runner = Replay([answer(["sbatch", "--parsable", "j.sh"], stdout=stdout)])
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"}, run_command=runner)
    if job_id:
        assert adapter.submit("j.sh") == job_id
    else:
        with pytest.raises(QueueError, match="printed no job id"):
            adapter.submit("j.sh")


@pytest.mark.parametrize(
    "scenario, name, count",
    [
        ("squeue_count_all", None, 6),
        ("squeue_count_pilot", "pilot", 5),
        ("squeue_count_none", "no-such-name", 0),
    ],
)
def test_slurm_counts_this_users_jobs(scenario, name, count):
    adapter, runner = replay("SLURM", scenario)
    assert adapter.count_jobs(name) == count
    assert not runner.calls


def test_slurm_count_skips_finished_jobs():
    """A user's SQUEUE_STATES=all makes squeue list finished jobs too."""
    listing = answer(
        ["squeue", "-h", "-u", "bob", "-o", "%i %T"],
        stdout="7 COMPLETED\n8 RUNNING\n9 CANCELLED\n10 COMPLETING\n",
    )
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"}, run_command=Replay([listing]), user="bob")
    assert adapter.count_jobs() == 2


@pytest.mark.parametrize(
    "scenario, state",
    [
        ("squeue_state_running", JobState.RUNNING),
        ("squeue_state_pending", JobState.PENDING),
        ("squeue_state_completed", JobState.COMPLETED),
        ("squeue_state_cancelled", JobState.CANCELLED),
    ],
)
def test_slurm_job_state_from_squeue(scenario, state):
    adapter, _ = replay("SLURM", scenario)
    job_id = SLURM[scenario][0]["argv"][3]
    assert adapter.job_state(job_id) is state


def test_slurm_unknown_job_asks_the_history_then_gives_none():
    adapter, runner = replay("SLURM", "state_unknown_id")
    assert adapter.job_state("999999") is None
    assert not runner.calls


def test_slurm_purged_job_is_found_in_the_jobcomp_history():
    done = SLURM["_done_id"]
    purged = dict(SLURM["state_unknown_id"][0], argv=["squeue", "-h", "-j", done, "-t", "all", "-o", "%T"])
    runner = Replay([purged, *SLURM["sacct_finished"]])
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"}, run_command=runner)
    assert adapter.job_state(done) is JobState.COMPLETED


def test_slurm_controller_down_is_a_queue_error():
    adapter, _ = replay("SLURM", "squeue_controller_down")
    with pytest.raises(QueueError, match="Unable to contact slurm controller"):
        adapter.count_jobs()
    down = dict(SLURM["squeue_controller_down"][0], argv=["squeue", "-h", "-j", "5", "-t", "all", "-o", "%T"])
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"}, run_command=Replay([down]))
    with pytest.raises(QueueError, match="Unable to contact slurm controller"):
        adapter.job_state("5")


def test_slurm_cancel():
    adapter, runner = replay("SLURM", "scancel_ok", "scancel_unknown")
    adapter.cancel(SLURM["_ids"][0])
    adapter.cancel("999999")
    assert not runner.calls
    refused = answer(
        ["scancel", "5"], 1, stderr="scancel: error: Kill job error on job id 5: Access/permission denied\n"
    )
    adapter = get_adapter({**BASE, "_fw_q_type": "SLURM"}, run_command=Replay([refused]))
    with pytest.raises(QueueError, match="Access/permission denied"):
        adapter.cancel("5")


@pytest.mark.parametrize(
    "name, state",
    [
        ("CANCELLED by 0", JobState.CANCELLED),
        ("OUT_OF_MEMORY", JobState.FAILED),
        ("COMPLETING", JobState.RUNNING),
        ("REQUEUED", JobState.PENDING),
        ("TIMEOUT", JobState.TIMEOUT),
        ("SUSPENDED", JobState.SUSPENDED),
        ("SOMETHING_NEW", JobState.UNKNOWN),
        ("", JobState.UNKNOWN),
    ],
)
def test_slurm_state_names(name, state):
    assert slurm_state(name) is state


# ---------------------------------------------------------------- PBS / Torque (hand-made)
def test_pbs_submit_and_errors():
    adapter, _ = replay("PBS", "qsub_ok", "qsub_bad_queue")
    assert adapter.submit("job.sh") == "1234.pbsserver.example.org"
    with pytest.raises(QueueError, match="Unknown queue MSG=requested queue not found"):
        adapter.submit("job.sh")


def test_pbs_counts_with_qselect():
    adapter, _ = replay("PBS", "qselect_pilot", "qselect_all")
    assert adapter.count_jobs("pilot") == 2
    assert adapter.count_jobs() == 3


@pytest.mark.parametrize(
    "scenario, job_id, state",
    [
        ("qstat_running", "1234", JobState.RUNNING),
        ("qstat_queued", "1235", JobState.PENDING),
        ("qstat_torque_completed", "1230", JobState.COMPLETED),
        ("qstat_torque_walltime", "1231", JobState.TIMEOUT),
        ("qstat_pbspro_history_failed", "1236", JobState.FAILED),
        ("qstat_unknown", "9999", None),
    ],
)
def test_pbs_job_state(scenario, job_id, state):
    adapter, runner = replay("PBS", scenario)
    assert adapter.job_state(job_id) is state
    assert not runner.calls


def test_pbs_server_down_and_cancel():
    adapter, _ = replay("PBS", "qstat_server_down", "qdel_ok", "qdel_gone", "qdel_denied")
    with pytest.raises(QueueError, match="cannot connect to server"):
        adapter.job_state("1234")
    adapter.cancel("1234")
    adapter.cancel("9999")
    with pytest.raises(QueueError, match="Unauthorized Request"):
        adapter.cancel("1234")


# ---------------------------------------------------------------- SGE (hand-made)
def test_sge_submit():
    adapter, _ = replay("SGE", "qsub_ok", "qsub_array", "qsub_bad_queue")
    assert adapter.submit("job.sh") == "4711"
    assert adapter.submit("job.sh") == "4720"
    with pytest.raises(QueueError, match='unknown queue "nope"'):
        adapter.submit("job.sh")


def test_sge_counts_by_full_name_and_skips_error_states():
    adapter, _ = replay("SGE", "qstat_xml", "qstat_xml")
    assert adapter.count_jobs("pilot") == 2  # 4711 r, 4712 qw; 4714 Eqw is stuck
    assert adapter.count_jobs() == 4


@pytest.mark.parametrize(
    "scenario, job_id, state",
    [
        ("qstat_xml", "4715", JobState.PENDING),
        ("qstat_xml", "4714", JobState.FAILED),
        ("finished_ok", "4700", JobState.COMPLETED),
        ("finished_failed", "4701", JobState.FAILED),
        ("unknown", "4800", None),
    ],
)
def test_sge_job_state(scenario, job_id, state):
    adapter, _ = replay("SGE", scenario)
    assert adapter.job_state(job_id) is state


def test_sge_errors_and_cancel():
    adapter, _ = replay("SGE", "qstat_not_xml", "qstat_down", "qdel_ok", "qdel_gone")
    with pytest.raises(QueueError, match="XML we cannot read"):
        adapter.count_jobs()
    with pytest.raises(QueueError, match="unable to send message to qmaster"):
        adapter.count_jobs()
    adapter.cancel("4711")
    adapter.cancel("4800")


@pytest.mark.parametrize(
    "code, state",
    [
        ("qw", JobState.PENDING),
        ("hqw", JobState.PENDING),
        ("hRwq", JobState.PENDING),
        ("r", JobState.RUNNING),
        ("Rr", JobState.RUNNING),
        ("t", JobState.RUNNING),
        ("dr", JobState.CANCELLED),
        ("s", JobState.SUSPENDED),
        ("Eqw", JobState.FAILED),
        ("", JobState.UNKNOWN),
    ],
)
def test_sge_state_letters(code, state):
    assert sge_state(code) is state


# ---------------------------------------------------------------- LSF (hand-made)
def test_lsf_submit_count_state_cancel():
    adapter, runner = replay(
        "LSF",
        "bsub_ok",
        "bsub_bad_queue",
        "bjobs_pilot",
        "bjobs_none",
        "bjobs_done",
        "bjobs_exit",
        "bjobs_unknown",
        "bkill_ok",
        "bkill_gone",
    )
    assert adapter.submit("job.sh") == "5150"
    with pytest.raises(QueueError, match="No such queue"):
        adapter.submit("job.sh")
    assert adapter.count_jobs("pilot") == 3
    assert adapter.count_jobs() == 0
    assert [adapter.job_state(i) for i in ("5140", "5141", "5999")] == [
        JobState.COMPLETED,
        JobState.FAILED,
        None,
    ]
    adapter.cancel("5150")
    adapter.cancel("5140")
    assert not runner.calls


def test_lsf_down_is_a_queue_error():
    adapter, _ = replay("LSF", "bjobs_down")
    with pytest.raises(QueueError, match="LSF is down"):
        adapter.count_jobs()


def test_lsf_script_reaches_bsub_on_stdin(tmp_path):
    """bsub only reads #BSUB lines from stdin: check our shell redirection for real."""
    fake = tmp_path / "bsub"
    fake.write_text(
        '#!/bin/sh\ncat > "$(dirname "$0")/got.txt"\necho "Job <42> is submitted to queue <normal>."\n'
    )
    fake.chmod(0o755)
    adapter = get_adapter({**BASE, "_fw_q_type": "LSF", "_q_commands_override": {"submit_cmd": str(fake)}})
    script = adapter.write_script(tmp_path / "job sh")
    assert adapter.submit(script.name, cwd=tmp_path) == "42"
    assert (tmp_path / "got.txt").read_text() == script.read_text()


# ---------------------------------------------------------------- the real runner
def test_run_subprocess(tmp_path):
    assert run_subprocess(["pwd"], cwd=tmp_path) == (0, f"{tmp_path}\n", "")
    rc, _, err = run_subprocess(["no-such-command-here"])
    assert rc == 127 and "cannot run no-such-command-here" in err
    rc, _, err = run_subprocess(["sleep", "5"], timeout=0.1)
    assert rc == 124 and "no answer within 0.1 s" in err


def test_adapter_classes_are_registered_by_q_type():
    assert ADAPTERS == {"SLURM": SlurmAdapter, "PBS": PBSAdapter, "SGE": SGEAdapter, "LSF": LSFAdapter}


def test_queue_adapters_import_direction():
    """Nothing from rocket or webgui; config and adapters use launchpad only for its errors."""
    for path in (ROOT / "queue_adapters").rglob("*.py"):
        low_level = path.name == "config.py" or path.parent.name == "adapters"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("rocket", "webgui")), f"{path}: imports {name}"
                if low_level and name.startswith("launchpad"):
                    assert name == "launchpad.errors", f"{path}: imports {name}"
