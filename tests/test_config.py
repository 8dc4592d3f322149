"""my_launchpad.yaml and my_fworker.yaml: finding them, reading FireWorks' keys, refusing the wrong file."""

import dataclasses
import os

import pytest
from conftest import CORPUS

from launchpad.config import (
    LaunchpadConfig,
    config_from_dict,
    config_to_dict,
    default_store_path,
    find_launchpad_file,
    load_config,
    starshell_home,
)
from launchpad.errors import ConfigError
from launchpad.worker import FWorker, find_fworker_file, fworker_from_dict, load_fworker


@pytest.fixture
def home(isolated_home):
    """conftest's private $STARSHELL_HOME (cwd is an empty work directory beside it)."""
    return isolated_home.parent / "home"


def _write(path, text, mode=0o600):
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


# ---- the default: the embedded store under $STARSHELL_HOME ---------------------


def test_no_file_means_the_embedded_store_in_starshell_home(home):
    config = load_config()
    assert config.kind == "sqlite" and config.source is None
    assert config.path == str(home / "launchpad.sqlite") == default_store_path()
    assert config.describe() == f"embedded store {home / 'launchpad.sqlite'}"


def test_without_starshell_home_the_store_is_under_the_users_home(tmp_path, monkeypatch):
    monkeypatch.delenv("STARSHELL_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert starshell_home() == str(tmp_path / ".starshell")
    assert LaunchpadConfig().path == str(tmp_path / ".starshell" / "launchpad.sqlite")


def test_the_same_store_from_any_working_directory(home, tmp_path, monkeypatch):
    first = load_config().path
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert load_config().path == first


def test_launchpad_from_file_opens_the_default_store(home):
    from launchpad import LaunchPad
    from launchpad.models import Firework
    from launchpad.tasks import ScriptTask

    lp = LaunchPad.from_file()
    lp.add_wf(Firework(ScriptTask(script="true")))
    assert (home / "launchpad.sqlite").exists()
    assert LaunchPad.from_file().get_fw_ids() == [1]


# ---- finding the file ---------------------------------------------------------


def test_file_search_order(home, tmp_path, monkeypatch):
    assert find_launchpad_file() is None
    in_home = _write(home / "my_launchpad.yaml", "store: sqlite\n")
    assert find_launchpad_file() == in_home
    here = _write(tmp_path / "work" / "my_launchpad.yaml", "store: sqlite\n")
    assert find_launchpad_file() == "my_launchpad.yaml" and os.path.samefile(find_launchpad_file(), here)
    from_env = _write(tmp_path / "env.yaml", "store: sqlite\n")
    monkeypatch.setenv("STARSHELL_LAUNCHPAD", from_env)
    assert find_launchpad_file() == from_env
    explicit = _write(tmp_path / "explicit.yaml", "store: sqlite\n")
    assert find_launchpad_file(explicit) == explicit


def test_named_files_must_exist(home, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="launchpad file .*nope.yaml does not exist"):
        load_config(str(tmp_path / "nope.yaml"))
    monkeypatch.setenv("STARSHELL_LAUNCHPAD", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match="STARSHELL_LAUNCHPAD names .*gone.yaml, which does not exist"):
        load_config()


# ---- MongoDB with FireWorks' keys ----------------------------------------------


@pytest.mark.corpus
def test_the_corpus_launchpad_file_is_mongodb(home):
    config = load_config(os.path.join(CORPUS, "worker", "my_launchpad.yaml"))
    assert (config.kind, config.host, config.port, config.name) == (
        "mongodb",
        "localhost",
        27017,
        "fireworks",
    )
    assert config.username is None and config.password is None and config.uri is None
    assert config.source == os.path.join(CORPUS, "worker", "my_launchpad.yaml")
    assert config.describe() == "MongoDB localhost:27017/fireworks"


def test_fireworks_keys(home, tmp_path):
    path = _write(
        tmp_path / "lp.yaml",
        "host: db.example.org\nport: '27018'\nname: prod\n"
        "username: alice\npassword: s3cret\nauthsource: admin\n"
        "logdir: null\nstrm_lvl: INFO\nssl: false\n"
        "mongoclient_kwargs: {connectTimeoutMS: 500}\n",
    )
    config = load_config(path)
    assert config.kind == "mongodb"
    assert (config.host, config.port, config.name) == ("db.example.org", 27018, "prod")
    assert (config.username, config.password, config.authsource) == ("alice", "s3cret", "admin")
    assert config.client_kwargs == {"connectTimeoutMS": 500, "tls": False}
    assert "s3cret" not in repr(config) and "s3cret" not in config.describe()


def test_fireworks_tls_keys_reach_the_client(home):
    config = config_from_dict(
        {
            "host": "db",
            "ssl": True,
            "ssl_ca_certs": "/etc/ca.pem",
            "ssl_certfile": "/etc/me.pem",
            "authmechanism": "SCRAM-SHA-256",
            "replicaset": "rs0",
            "mongoclient_kwargs": {"tls": False},
        }
    )
    assert config.client_kwargs == {
        "tls": False,
        "tlsCAFile": "/etc/ca.pem",
        "tlsCertificateKeyFile": "/etc/me.pem",
        "authMechanism": "SCRAM-SHA-256",
        "replicaSet": "rs0",
    }


@pytest.mark.parametrize(
    "data, uri",
    [
        (
            {"host": "mongodb://alice:pw@db1,db2/prod?replicaSet=rs"},
            "mongodb://alice:pw@db1,db2/prod?replicaSet=rs",
        ),
        (
            {"host": "mongodb+srv://alice:pw@cluster0.example.net/prod"},
            "mongodb+srv://alice:pw@cluster0.example.net/prod",
        ),
        ({"host": "db.example.org/prod", "uri_mode": True}, "db.example.org/prod"),
        ({"uri": "mongodb://db/prod"}, "mongodb://db/prod"),
    ],
)
def test_uris_in_host_or_uri(data, uri):
    config = config_from_dict(data)
    assert config.kind == "mongodb" and config.uri == uri
    assert "pw" not in config.describe()


def test_mongomock_store_for_tests():
    assert config_from_dict({"store": "mongomock", "name": "t"}).kind == "mongomock"


# ---- SQLite ---------------------------------------------------------------------


def test_sqlite_relative_paths_are_relative_to_the_file(home, tmp_path):
    conf_dir = tmp_path / "project"
    conf_dir.mkdir()
    path = _write(conf_dir / "my_launchpad.yaml", "store: sqlite\npath: data/lp.sqlite\n")
    assert load_config(path).path == str(conf_dir / "data" / "lp.sqlite")


def test_sqlite_absolute_and_home_paths(home, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_from_dict({"store": "sqlite", "path": "~/x.sqlite"}).path == str(tmp_path / "x.sqlite")
    assert config_from_dict({"store": "embedded", "path": "/abs/lp.sqlite"}).path == "/abs/lp.sqlite"
    assert config_from_dict({"store": "SQLite"}).path == default_store_path()


def test_config_to_dict_round_trips(home):
    for config in (
        LaunchpadConfig(),
        config_from_dict({"store": "sqlite", "path": "/x/y.sqlite"}),
        config_from_dict(
            {"host": "h", "port": 1, "name": "n", "username": "u", "password": "p", "authsource": "admin"}
        ),
        config_from_dict({"host": "mongodb://u:p@h/db"}),
    ):
        assert config_from_dict(config_to_dict(config)) == config


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LaunchpadConfig().path = "/elsewhere"


# ---- refusing wrong or wrongly-typed files --------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    "relpath, words",
    [
        (
            "fw_config/FW_config.yaml",
            "looks like FireWorks' global FW_config.yaml \\(ECHO_TEST\\), "
            "not a launchpad file: starshell reads it as ./FW_config.yaml",
        ),
        ("queue/qadapter_slurm.yaml", "queue adapter file .* give it to qlaunch with -q"),
        ("worker/my_fworker.yaml", "worker file .* give it to rlaunch with -w"),
        ("workflow/org_wf.yaml", "workflow file, not a launchpad file; add it with lpad add"),
    ],
)
def test_other_fireworks_files_given_as_the_launchpad_file_are_named(home, relpath, words):
    path = os.path.join(CORPUS, relpath)
    with pytest.raises(ConfigError, match=words) as info:
        load_config(path)
    assert str(info.value).startswith(f"{os.path.abspath(path)}: ")
    assert "\n" not in str(info.value)


def test_fw_config_with_launchpad_loc_points_at_it():
    with pytest.raises(ConfigError, match="LAUNCHPAD_LOC names /x/my_launchpad.yaml: pass that file with -l"):
        config_from_dict({"LAUNCHPAD_LOC": "/x/my_launchpad.yaml", "CONFIG_FILE_DIR": "/x"})


@pytest.mark.parametrize(
    "text, words",
    [
        ("host: h\ncolour: blue\n", "unknown setting\\(s\\): colour"),
        ("store: sqlite\nhost: h\n", "unknown setting\\(s\\) for the embedded store: host"),
        ("store: redis\n", "unknown store 'redis'; use sqlite or mongodb"),
        ("host: h\nport: many\n", "port must be a number, got 'many'"),
        ("host: h\nport: true\n", "port must be a number, got True"),
        ("host: h\nmongoclient_kwargs: [1]\n", "mongoclient_kwargs must be a mapping"),
        ("- host\n- port\n", "expected a mapping of settings, got list"),
        ("host: [unclosed\n", ":2: invalid YAML"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_file(home, tmp_path, text, words):
    path = _write(tmp_path / "my_launchpad.yaml", text)
    with pytest.raises(ConfigError, match=words) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_an_empty_file_is_an_error_not_the_default(home, tmp_path):
    with pytest.raises(ConfigError, match="empty.yaml: the launchpad file is empty"):
        load_config(_write(tmp_path / "empty.yaml", "# nothing yet\n"))


def test_config_from_dict_refuses_non_mappings():
    with pytest.raises(ConfigError, match="expected a mapping"):
        config_from_dict(["host"])


# ---- password files readable by others -------------------------------------------


@pytest.mark.parametrize("text", ["host: h\nusername: u\npassword: pw\n", "host: mongodb://u:pw@h/db\n"])
def test_a_readable_file_with_credentials_warns(home, tmp_path, capsys, text):
    path = _write(tmp_path / "lp.yaml", text, mode=0o644)
    load_config(path)
    err = capsys.readouterr().err
    assert f"warning: {path} holds a password and is readable by other users" in err
    assert f"chmod 600 {path}" in err and "pw" not in err.replace(path, "")


@pytest.mark.parametrize(
    "text, mode",
    [
        ("host: h\npassword: pw\n", 0o600),
        ("host: h\nusername: u\n", 0o644),
        ("host: mongodb://h/db\n", 0o644),
    ],
)
def test_no_warning_when_private_or_without_password(home, tmp_path, capsys, text, mode):
    load_config(_write(tmp_path / "lp.yaml", text, mode=mode))
    assert capsys.readouterr().err == ""


# ---- my_fworker.yaml ------------------------------------------------------------


@pytest.mark.corpus
def test_the_corpus_worker_file(home):
    worker = load_fworker(os.path.join(CORPUS, "worker", "my_fworker.yaml"))
    assert worker == FWorker(name="my first fireworker", category="", query={}, env={})
    flt = worker.filter()
    assert flt.name == "my first fireworker" and flt.categories() is None  # '' runs any category


def test_no_worker_file_means_the_default_worker(home):
    assert find_fworker_file() is None
    assert load_fworker() == FWorker()
    assert FWorker().name == "Automatically generated Worker"


def test_worker_file_search(home, tmp_path):
    in_home = _write(home / "my_fworker.yaml", "name: from home\n")
    assert load_fworker().name == "from home" and find_fworker_file() == in_home
    _write(tmp_path / "work" / "my_fworker.yaml", "name: from here\n")
    assert load_fworker().name == "from here"
    with pytest.raises(ConfigError, match="worker file .*absent.yaml does not exist"):
        load_fworker(str(tmp_path / "absent.yaml"))


def test_worker_settings():
    worker = fworker_from_dict(
        {
            "name": "gpu node",
            "category": ["gpu", "big"],
            "query": '{"spec.size": {"$lt": 10}}',
            "env": {"vasp": "/opt/vasp"},
            "allow_outside_launch_dir": True,
        }
    )
    assert worker.category == ["gpu", "big"] and worker.query == {"spec.size": {"$lt": 10}}
    assert worker.env == {"vasp": "/opt/vasp"} and worker.allow_outside_launch_dir
    assert fworker_from_dict({"query": {"state": "READY"}}).query == {"state": "READY"}
    assert fworker_from_dict({}).name.endswith(" worker")


@pytest.mark.parametrize(
    "data, words",
    [
        ({"query": "{not json"}, "my.yaml: bad query: the query is not valid JSON"),
        ({"query": '{"$where": "1"}'}, "bad query: .*\\$where runs code"),
        ({"name": "w", "host": "localhost"}, "unknown worker setting\\(s\\): host"),
        ({"env": ["a"]}, "env must be a mapping"),
        ({"category": 3}, "category must be a string or a list"),
        ("name: w", "expected a mapping with name, category, query, env"),
    ],
)
def test_bad_worker_settings(data, words):
    with pytest.raises(ConfigError, match=words):
        fworker_from_dict(data, source="my.yaml")


@pytest.mark.corpus
def test_a_launchpad_file_given_as_worker_is_refused(home):
    with pytest.raises(ConfigError, match="unknown worker setting\\(s\\): host, logdir"):
        load_fworker(os.path.join(CORPUS, "worker", "my_launchpad.yaml"))
