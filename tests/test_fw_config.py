"""FireWorks' FW_config.yaml, ~/.fireworks and -c/--config_dir (issue 10).

Each case runs the installed lpad, rlaunch and qlaunch in their own
processes for a user with a fresh HOME, $STARSHELL_HOME and working
directory, as someone moving from FireWorks would: files where FireWorks
looks for them, and nothing where starshell looks by itself.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS
from test_config_paths import QADAPTER, _script
from user_commands import new_user

from launchpad import LaunchPad
from launchpad.stores import SQLiteStore

HELLO = "spec: {_tasks: [{_fw_name: ScriptTask, script: 'echo hi > hello.txt'}]}\n"
FANCY_WF = "spec: {_tasks: [{_fw_name: Fancy Task, word: bonjour}]}\n"
# A user task only reachable through ADD_USER_PACKAGES: its folder is on
# PYTHONPATH, but nothing imports it unless a setting names it.
FANCY_TASK = """from launchpad import FiretaskBase


class FancyTask(FiretaskBase):
    _fw_name = "Fancy Task"
    required_params = ["word"]

    def run_task(self, fw_spec):
        with open("fancy.txt", "w") as fh:
            fh.write(self["word"])
"""


@pytest.fixture
def user(tmp_path):
    """A user whose HOME is fresh too: ~/.fireworks is theirs alone."""
    user = new_user(tmp_path)
    user.fw_home = tmp_path / "userhome"
    (user.fw_home / ".fireworks").mkdir(parents=True)
    user.env = {k: v for k, v in user.env.items() if k != "FW_CONFIG_FILE"}
    user.env["HOME"] = str(user.fw_home)
    return user


def _ok(user, *argv, extra_env=None):
    done = user.run(*argv, extra_env=extra_env)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return done


def _launchpad_file(folder, store):
    path = folder / "my_launchpad.yaml"
    path.write_text(f"store: sqlite\npath: {store}\n")
    return path


def _states(store):
    lp = LaunchPad(SQLiteStore(store))
    try:
        return lp.fw_state_counts()
    finally:
        lp.store.close()


def _qadapter(folder, tmp_path):
    sbatch = _script(tmp_path / "sbatch", f"touch {tmp_path}/submitted\necho 7\n")
    squeue = _script(tmp_path / "squeue", "exit 0\n")
    (folder / "my_qadapter.yaml").write_text(QADAPTER.format(sbatch=sbatch, squeue=squeue))


def _no_default_store(user):
    assert not (user.home / "launchpad.sqlite").exists()


def test_the_fireworks_folder_is_found_by_lpad_rlaunch_and_qlaunch(user, tmp_path):
    store = tmp_path / "fireworks.sqlite"
    _launchpad_file(user.fw_home / ".fireworks", store)
    _qadapter(user.fw_home / ".fireworks", tmp_path)
    (user.work / "hello.yaml").write_text(HELLO)
    _ok(user, "lpad", "add", "hello.yaml")
    _ok(user, "lpad", "add", "hello.yaml")
    assert _states(store) == {"READY": 2}
    _ok(user, "rlaunch", "singleshot")
    assert _states(store) == {"READY": 1, "COMPLETED": 1}
    done = _ok(user, "qlaunch", "singleshot")
    assert "submitted job 7" in done.stdout and (tmp_path / "submitted").exists()
    _no_default_store(user)


def test_starshell_places_come_before_the_fireworks_folder(user, tmp_path):
    _launchpad_file(user.fw_home / ".fireworks", tmp_path / "fireworks.sqlite")
    _launchpad_file(user.home, tmp_path / "starshell.sqlite")
    (user.work / "hello.yaml").write_text(HELLO)
    _ok(user, "lpad", "add", "hello.yaml")
    assert (tmp_path / "starshell.sqlite").exists()
    assert not (tmp_path / "fireworks.sqlite").exists()


def _only_launch(user, env):
    """Firework 1's one launch, as lpad shows it (in that user's environment)."""
    shown = json.loads(
        _ok(user, "lpad", "-o", "json", "get_fws", "-i", "1", "-d", "all", extra_env=env).stdout
    )
    (launch,) = (shown[0] if isinstance(shown, list) else shown)["launches"]
    return launch


def _fw_config(tmp_path, text):
    path = tmp_path / "elsewhere" / "FW_config.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_fw_config_file_names_the_launchpad_tasks_heartbeat_and_sleep(user, tmp_path):
    store = tmp_path / "loc.sqlite"
    lp_file = _launchpad_file(tmp_path, store)
    packages = tmp_path / "pkgs"
    (packages / "fancy").mkdir(parents=True)
    (packages / "fancy" / "__init__.py").write_text("")
    (packages / "fancy" / "tasks.py").write_text(FANCY_TASK)
    user.env["PYTHONPATH"] += os.pathsep + str(packages)
    (user.work / "fancy.yaml").write_text(FANCY_WF)
    refused = user.run("lpad", "-l", str(lp_file), "add", "fancy.yaml")
    assert refused.returncode == 2 and "Fancy Task" in refused.stderr  # not reachable without it
    config = _fw_config(
        tmp_path,
        f"LAUNCHPAD_LOC: {lp_file}\nADD_USER_PACKAGES: [fancy.tasks]\n"
        "PING_TIME_SECS: 7\nRAPIDFIRE_SLEEP_SECS: 1\n",
    )
    env = {"FW_CONFIG_FILE": str(config)}
    _ok(user, "lpad", "add", "fancy.yaml", extra_env=env)
    assert _states(store) == {"READY": 1}
    done = _ok(user, "rlaunch", "rapidfire", "--nlaunches", "infinite", "--max_loops", "2", extra_env=env)
    assert "sleeping 1 s" in done.stderr
    assert _states(store) == {"COMPLETED": 1}
    launch = _only_launch(user, env)
    assert launch["ping_interval"] == 7
    assert Path(launch["launch_dir"], "fancy.txt").read_text() == "bonjour"
    _no_default_store(user)


def test_config_file_dir_holds_the_files(user, tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    store = tmp_path / "dir.sqlite"
    _launchpad_file(folder, store)
    (folder / "my_fworker.yaml").write_text("name: from the config dir\n")
    config = _fw_config(tmp_path, f"CONFIG_FILE_DIR: {folder}\n")
    env = {"FW_CONFIG_FILE": str(config)}
    (user.work / "hello.yaml").write_text(HELLO)
    _ok(user, "lpad", "add", "hello.yaml", extra_env=env)
    _ok(user, "rlaunch", "singleshot", extra_env=env)
    assert _states(store) == {"COMPLETED": 1}
    assert _only_launch(user, env)["fworker"]["name"] == "from the config dir"
    _no_default_store(user)


def test_config_dir_option_on_each_command(user, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    store = tmp_path / "site.sqlite"
    _launchpad_file(folder, store)
    _qadapter(folder, tmp_path)
    # -c wins over LAUNCHPAD_LOC, as in FireWorks
    (tmp_path / "other").mkdir()
    other = _launchpad_file(tmp_path / "other", tmp_path / "other.sqlite")
    config = _fw_config(tmp_path, f"LAUNCHPAD_LOC: {other}\nSUBMIT_SCRIPT_NAME: job.sh\n")
    env = {"FW_CONFIG_FILE": str(config)}
    (user.work / "hello.yaml").write_text(HELLO)
    _ok(user, "lpad", "-c", str(folder), "add", "hello.yaml", extra_env=env)
    _ok(user, "lpad", "--config_dir", str(folder), "add", "hello.yaml", extra_env=env)
    assert _states(store) == {"READY": 2}
    _ok(user, "rlaunch", "-c", str(folder), "singleshot", extra_env=env)
    assert _states(store) == {"READY": 1, "COMPLETED": 1}
    done = _ok(user, "qlaunch", "-c", str(folder), "singleshot", extra_env=env)
    assert "submitted job 7" in done.stdout
    assert [p.name for p in user.work.glob("launcher_*/*.sh")] == ["job.sh"]
    assert not (tmp_path / "other.sqlite").exists()
    missing = user.run("rlaunch", "-c", str(tmp_path / "nowhere"), "singleshot")
    assert missing.returncode == 2 and "config folder (-c)" in missing.stderr
    _no_default_store(user)


@pytest.mark.parametrize("command", ["lpad", "rlaunch", "qlaunch"])
def test_version_option(user, command):
    for flag in ("-v", "--version"):
        done = _ok(user, command, flag)
        assert done.stdout.startswith("starshell ") and done.stderr == ""
    assert _ok(user, "lpad", "version").stdout == done.stdout


def test_ignored_and_unknown_keys_are_named_once(user, tmp_path):
    (user.work / "FW_config.yaml").write_text("SORT_FWS: true\nPING_TIM_SECS: 3\nRUN_EXPIRATION_SECS: 99\n")
    for argv in (["lpad", "detect_lostruns"], ["rlaunch", "multi", "2"], ["qlaunch", "-v"]):
        done = _ok(user, *argv)
        assert done.stderr.count("SORT_FWS") == 1, (argv, done.stderr)
        assert done.stderr.count("PING_TIM_SECS") == 1, (argv, done.stderr)
        assert "did you mean PING_TIME_SECS?" in done.stderr
    help_text = _ok(user, "lpad", "detect_lostruns", "--help").stdout
    assert "RUN_EXPIRATION_SECS" in help_text


def test_fw_config_mistakes_stop_the_command(user, tmp_path):
    missing = user.run("lpad", "get_fws", extra_env={"FW_CONFIG_FILE": str(tmp_path / "no.yaml")})
    assert missing.returncode == 2 and "$FW_CONFIG_FILE names" in missing.stderr
    config = _fw_config(tmp_path, f"LAUNCHPAD_LOC: {tmp_path / 'gone.yaml'}\n")
    gone = user.run("rlaunch", "singleshot", extra_env={"FW_CONFIG_FILE": str(config)})
    assert gone.returncode == 2 and "LAUNCHPAD_LOC names" in gone.stderr
    config.write_text("PING_TIME_SECS: soon\n")
    bad = user.run("rlaunch", "singleshot", extra_env={"FW_CONFIG_FILE": str(config)})
    assert bad.returncode == 2 and "PING_TIME_SECS must be a number" in bad.stderr
    config.write_text("WEBSERVER_PORT: 80.5\n")
    port = user.run("lpad", "webgui", extra_env={"FW_CONFIG_FILE": str(config)})
    assert port.returncode == 2 and "WEBSERVER_PORT must be a whole number" in port.stderr
    _no_default_store(user)


@pytest.mark.corpus
def test_the_corpus_fw_config_is_understood(user):
    """Its one key, ECHO_TEST, is FireWorks' way to check the file is read: it is printed."""
    shutil.copy(os.path.join(CORPUS, "fw_config", "FW_config.yaml"), user.work)
    done = _ok(user, "lpad", "version")
    assert "successfully loaded your custom FW_config.yaml!" in done.stderr
    assert done.stdout.startswith("starshell ")
    given = user.run("lpad", "-l", "FW_config.yaml", "get_fws")
    assert given.returncode == 2 and "not a launchpad file" in given.stderr


def _settings(text, tmp_path):
    from launchpad.files import read_yaml_file
    from launchpad.fw_config import settings_from_dict

    path = tmp_path / "FW_config.yaml"
    path.write_text(text)
    return settings_from_dict(read_yaml_file(str(path)), str(path))


def test_keys_become_the_defaults_of_their_options(tmp_path):
    """Every row of the three commands' tables reaches its option; the command line wins."""
    from launchpad.cli import lpad as lpad_cli
    from launchpad.fw_config import set_option_defaults
    from queue_adapters import cli as qlaunch_cli
    from rocket import cli as rlaunch_cli

    settings = _settings(
        "RUN_EXPIRATION_SECS: 99\nRESERVATION_EXPIRATION_SECS: 98\n"
        "WEBSERVER_HOST: 0.0.0.0\nWEBSERVER_PORT: 8080\nPING_TIME_SECS: 7\n"
        "RAPIDFIRE_SLEEP_SECS: 3\nQUEUE_UPDATE_INTERVAL: 4\n"
        "QUEUE_RETRY_ATTEMPTS: 9\n",
        tmp_path,
    )
    lpad = lpad_cli.build_parser()
    set_option_defaults(lpad.subcommands, lpad_cli.OPTION_DEFAULTS, settings)
    assert lpad.parse_args(["detect_lostruns"]).time == 99
    assert lpad.parse_args(["detect_lostruns", "--time", "5"]).time == 5
    assert lpad.parse_args(["detect_unreserved"]).time == 98
    web = lpad.parse_args(["webgui"])
    assert (web.host, web.port) == ("0.0.0.0", 8080)
    daemon = lpad.parse_args(["daemon"])
    assert (daemon.lostruns_time, daemon.unreserved_time) == (99, 98)
    for module, argv, expected in (
        (rlaunch_cli, ["rapidfire"], {"ping_interval": 7, "sleep": 3}),
        (rlaunch_cli, ["multi", "2"], {"sleep": 3}),
        (qlaunch_cli, ["rapidfire"], {"sleep": 3, "submit_interval": 4, "max_errors": 9}),
    ):
        parser = module.build_parser()
        set_option_defaults({None: parser, **parser.subcommands}, module.OPTION_DEFAULTS, settings)
        args = parser.parse_args(argv)
        assert {k: getattr(args, k) for k in expected} == expected


def test_mongo_socket_timeout_reaches_the_client_unless_the_file_sets_it(tmp_path):
    from launchpad.fw_config import launchpad_config

    settings = _settings("MONGO_SOCKET_TIMEOUT_MS: 1234\n", tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("host: db.example.org\n")
    own = tmp_path / "own.yaml"
    own.write_text("host: db.example.org\nmongoclient_kwargs: {socketTimeoutMS: 5}\n")
    assert launchpad_config(settings, str(plain)).client_kwargs["socketTimeoutMS"] == 1234
    assert launchpad_config(settings, str(own)).client_kwargs["socketTimeoutMS"] == 5
    embedded = tmp_path / "embedded.yaml"
    embedded.write_text(f"store: sqlite\npath: {tmp_path / 'x.sqlite'}\n")
    assert launchpad_config(settings, str(embedded)).client_kwargs == {}


def test_template_dir_and_packages_go_to_the_tasks_environment(tmp_path, monkeypatch):
    from launchpad.fw_config import task_environment

    monkeypatch.setenv("STARSHELL_USER_PACKAGES", "mine")
    monkeypatch.delenv("STARSHELL_TEMPLATE_DIR", raising=False)
    settings = _settings("ADD_USER_PACKAGES: [a.tasks, mine]\nTEMPLATE_DIR: ~/templates\n", tmp_path)
    env = task_environment(settings)
    assert env["STARSHELL_USER_PACKAGES"] == "mine,a.tasks"
    assert env["STARSHELL_TEMPLATE_DIR"] == os.path.expanduser("~/templates")


def test_lpad_queue_commands_find_the_qadapter_like_qlaunch(user, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    _launchpad_file(folder, tmp_path / "site.sqlite")
    without = _ok(user, "lpad", "detect_unreserved")
    assert "no queue adapter file" in without.stderr
    _qadapter(folder, tmp_path)
    done = _ok(user, "lpad", "-c", str(folder), "detect_unreserved")
    assert "no queue adapter file" not in done.stderr and "no stale reservations" in done.stdout
    assert (tmp_path / "site.sqlite").exists()
