"""FireWorks' ``FW_config.yaml``: the keys starshell honours, and where files are found.

FireWorks users keep ``FW_config.yaml`` and their ``my_*.yaml`` files in
``~/.fireworks``; reading them lets such a user switch without moving files.
FireWorks applies that file by rewriting its config module's globals at
import; here ``load_fw_settings()`` returns a frozen value that each CLI
reads once and passes on (option defaults, file lookup, environment for the
tasks). Keys starshell has no use for are named in one warning, with why.
"""

import contextlib
import os
import sys
from dataclasses import dataclass, field
from types import MappingProxyType

from .config import LAUNCHPAD_ENV, nonempty_path, read_settings_file, starshell_home
from .errors import ConfigError
from .firetask import USER_PACKAGES_ENV
from .fw_data import FWData  # noqa: F401 (FireWorks' fw_config.FWData, re-exported)

FW_CONFIG_NAME = "FW_config.yaml"
FW_CONFIG_ENV = "FW_CONFIG_FILE"
FIREWORKS_DIR = os.path.join("~", ".fireworks")
TEMPLATE_DIR_ENV = "STARSHELL_TEMPLATE_DIR"  # launchpad.tasks.templates' (not imported: jinja2)

# kind -> (file name, FW_config key naming it, starshell's variable naming it)
SETTINGS_FILES = {
    "launchpad": ("my_launchpad.yaml", "LAUNCHPAD_LOC", LAUNCHPAD_ENV),
    "fworker": ("my_fworker.yaml", "FWORKER_LOC", None),
    "qadapter": ("my_qadapter.yaml", "QUEUEADAPTER_LOC", None),
}
_NUMBERS = (
    "PING_TIME_SECS",
    "RUN_EXPIRATION_SECS",
    "RESERVATION_EXPIRATION_SECS",
    "RAPIDFIRE_SLEEP_SECS",
    "QUEUE_UPDATE_INTERVAL",
    "QUEUE_RETRY_ATTEMPTS",
    "WEBSERVER_PORT",
    "MONGO_SOCKET_TIMEOUT_MS",
)
_COUNTS = ("QUEUE_RETRY_ATTEMPTS", "WEBSERVER_PORT", "MONGO_SOCKET_TIMEOUT_MS")
_TEXTS = (
    "LAUNCHPAD_LOC",
    "FWORKER_LOC",
    "QUEUEADAPTER_LOC",
    "CONFIG_FILE_DIR",
    "SUBMIT_SCRIPT_NAME",
    "TEMPLATE_DIR",
    "WEBSERVER_HOST",
)
# Written to each launch directory (FW.json: true by default, as in FireWorks).
_FLAGS = ("PRINT_FW_JSON", "PRINT_FW_YAML")
USED = frozenset(_NUMBERS + _TEXTS + _FLAGS + ("ADD_USER_PACKAGES", "ECHO_TEST"))
# FireWorks keys that change nothing here, and why (the warning says it).
IGNORED = MappingProxyType(
    {
        "REMOVE_USELESS_DIRS": "with _launch_dir starshell never makes the launcher_ directory, "
        "so none is left empty",
        "EXCEPT_DETAILS_ON_RERUN": "a rerun keeps the exception on the FIZZLED launch, "
        "not in the spec; see lpad get_fws -d all",
        "ALWAYS_CREATE_NEW_BLOCK": "every qlaunch run starts a new block_ directory already",
        "USER_PACKAGES": "use ADD_USER_PACKAGES or $STARSHELL_USER_PACKAGES",
        "FW_NAME_UPDATES": "task names are resolved as written; see docs/workflows.md",
        "MONGOMOCK_SERVERSTORE_FILE": "the embedded store is SQLite; copy that file's workflows "
        "with lpad admin import_fireworks --mongomock_file",
        "WFLOCK_EXPIRATION_SECS": "starshell takes no workflow locks",
        "WFLOCK_EXPIRATION_KILL": "starshell takes no workflow locks",
        "PW_CHECK_NUM": "confirmations follow starshell's rules, see docs/cli.md",
        "SORT_FWS": "ties of priority always go to the lowest fw_id",
        "QSTAT_FREQUENCY": "qlaunch asks the queue once per round",
        "QUEUE_JOBNAME_MAXLEN": "the job name is the qadapter's job_name",
        "MAINTAIN_INTERVAL": "give lpad admin maintain --maintain_interval",
        "ROCKET_STREAM_LOGLEVEL": "give rlaunch --loglvl",
    }
)
_NOT_USED_HERE = (
    "FW_BLOCK_FORMAT",
    "FW_LOGGING_FORMAT",
    "YAML_STYLE",
    "JSON_SCHEMA_VALIDATE",
    "JSON_SCHEMA_VALIDATE_LIST",
    "DS_PASSWORD",
    "STORE_PACKING_INFO",
    "TRACKER_LINES",
    "ENCODE_MONTY",
    "DECODE_MONTY",
    "WEBSERVER_PERFWARNINGS",
    "GRIDFS_FALLBACK_COLLECTION",
    "NEGATIVE_FWID_CTR",
)
_OTHER_REASON = "starshell has no such setting"
# FireWorks' defaults of the keys starshell honours, for scripts that read them as its
# module constants (``from fireworks.fw_config import RAPIDFIRE_SLEEP_SECS``).
FIREWORKS_DEFAULTS = MappingProxyType(
    {
        "CONFIG_FILE_DIR": ".",
        "ADD_USER_PACKAGES": (),
        "ECHO_TEST": None,
        "PRINT_FW_JSON": True,
        "PRINT_FW_YAML": False,
        "PING_TIME_SECS": 3600,
        "RUN_EXPIRATION_SECS": 14400,
        "RESERVATION_EXPIRATION_SECS": 1209600,
        "RAPIDFIRE_SLEEP_SECS": 60,
        "QUEUE_UPDATE_INTERVAL": 5,
        "QUEUE_RETRY_ATTEMPTS": 10,
        "SUBMIT_SCRIPT_NAME": "FW_submit.script",
        "TEMPLATE_DIR": None,
        "WEBSERVER_HOST": "127.0.0.1",
        "WEBSERVER_PORT": 5000,
        "MONGO_SOCKET_TIMEOUT_MS": 300000,
    }
)


@dataclass(frozen=True)
class FWSettings:
    """What an ``FW_config.yaml`` says (empty without one); read by the CLIs."""

    source: str = None
    values: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    ignored: tuple = ()  # (key, why) for each key that changes nothing

    def get(self, key, default=None):
        value = self.values.get(key)
        return default if value is None else value

    def user_packages(self):
        return tuple(self.values.get("ADD_USER_PACKAGES") or ())

    def find_file(self, kind, explicit=None, config_dir=None):
        """The settings file to open, or None to leave the choice to starshell's own
        lookup (``$STARSHELL_LAUNCHPAD``, ./, ``$STARSHELL_HOME``, the default).

        The order is docs/stores.md's: the option, starshell's variable, ``-c DIR``
        (else CONFIG_FILE_DIR), the *_LOC key, ./, ``$STARSHELL_HOME``,
        ``~/.fireworks``. As in FireWorks, ``-c`` wins over the *_LOC key."""
        if explicit is not None:
            return explicit
        name, key, env_var = SETTINGS_FILES[kind]
        if env_var and os.environ.get(env_var):
            return None
        folder = config_dir if config_dir is not None else self.get("CONFIG_FILE_DIR")
        if folder and os.path.exists(os.path.join(_expand(folder), name)):
            return os.path.join(_expand(folder), name)
        named = self.get(key)
        if named:
            if not os.path.exists(_expand(named)):
                raise ConfigError(
                    f"{self.source}: {key} names {named}, which does not exist "
                    f"(looked from {os.getcwd()}); fix the path or remove the key"
                )
            return _expand(named)
        if os.path.exists(name) or os.path.exists(os.path.join(starshell_home(), name)):
            return None
        in_fireworks_dir = os.path.join(_expand(FIREWORKS_DIR), name)
        return in_fireworks_dir if os.path.exists(in_fireworks_dir) else None


def _expand(path):
    return os.path.expanduser(str(path))


def config_dir_option(path):
    """``-c DIR``: a folder that must exist (its files may not: FireWorks then looks on)."""
    if path is None:
        return None
    nonempty_path(path, "config folder (-c)")
    if not os.path.isdir(_expand(path)):
        raise ConfigError(
            f"config folder (-c) {path} is not a folder (looked from "
            f"{os.getcwd()}); give the folder holding my_launchpad.yaml, "
            "my_fworker.yaml or my_qadapter.yaml"
        )
    return _expand(path)


def find_fw_config_file():
    """FireWorks' order: ./FW_config.yaml, ~/.fireworks/FW_config.yaml, $FW_CONFIG_FILE;
    the first that exists is used, and having several is said (as FireWorks does)."""
    named = os.environ.get(FW_CONFIG_ENV)
    if named and not os.path.exists(_expand(named)):
        raise ConfigError(
            f"${FW_CONFIG_ENV} names {named}, which does not exist; fix it or "
            f"unset it (export -n {FW_CONFIG_ENV})"
        )
    found = []
    for path in (
        FW_CONFIG_NAME,
        os.path.join(_expand(FIREWORKS_DIR), FW_CONFIG_NAME),
        named and _expand(named),
    ):
        if path and os.path.exists(path) and os.path.abspath(path) not in found:
            found.append(os.path.abspath(path))
    if len(found) > 1:
        _note(f"note: several FW_config.yaml files ({', '.join(found)}); using {found[0]}")
    return found[0] if found else None


def load_fw_settings(quiet=False):
    """The FWSettings of the FW_config.yaml in force. Prints ECHO_TEST and one warning
    naming the keys that change nothing, unless ``quiet`` (a process started by one
    that said it already)."""
    path = find_fw_config_file()
    if path is None:
        return FWSettings()
    settings = settings_from_dict(read_settings_file(path, "FW_config.yaml"), path)
    if not quiet:
        if settings.get("ECHO_TEST") is not None:
            _note(str(settings.get("ECHO_TEST")))
        if settings.ignored:
            _note(
                f"warning: {path}: starshell ignores "
                + "; ".join(f"{key}: {why}" for key, why in settings.ignored)
            )
    return settings


def settings_from_dict(data, source):
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of FireWorks settings (KEY: value), got {type(data).__name__}"
        )
    values, ignored = {}, []
    for key, value in data.items():
        key = str(key)
        if key in USED:
            values[key] = _checked(key, value, source)
        elif key in IGNORED:
            ignored.append((key, IGNORED[key]))
        elif key in _NOT_USED_HERE:
            ignored.append((key, _OTHER_REASON))
        else:
            ignored.append((key, _unknown(key)))
    return FWSettings(source=source, values=MappingProxyType(values), ignored=tuple(ignored))


def _unknown(key):
    import difflib  # only for a key nobody knows: a typo, most often

    close = difflib.get_close_matches(key, sorted(USED | set(IGNORED)), n=1)
    hint = f", did you mean {close[0]}?" if close else ""
    return f"not a FireWorks setting{hint}"


def _checked(key, value, source):
    if value is None:
        return None
    if key in _NUMBERS:
        kind = int if key in _COUNTS else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
            what = "a whole number" if key in _COUNTS else "a number"
            raise ConfigError(f"{source}: {key} must be {what} of at least 0, got {value!r}")
        return value
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key} must be true or false, got {value!r}")
        return value
    if key == "ADD_USER_PACKAGES":
        packages = [value] if isinstance(value, str) else value
        if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
            raise ConfigError(f"{source}: ADD_USER_PACKAGES must be a list of module names, got {value!r}")
        return tuple(packages)
    if key in _TEXTS and not isinstance(value, (str, int)):
        raise ConfigError(f"{source}: {key} must be a text, got {value!r}")
    return value if key == "ECHO_TEST" else str(value)


def _note(text):
    print(text, file=sys.stderr)


def task_environment(settings):
    """The variables that carry ADD_USER_PACKAGES and TEMPLATE_DIR to the tasks, in
    this process and in every process it starts (rockets, pilot jobs)."""
    env = {}
    packages = settings.user_packages()
    if packages:
        already = [p.strip() for p in os.environ.get(USER_PACKAGES_ENV, "").split(",") if p.strip()]
        env[USER_PACKAGES_ENV] = ",".join(already + [p for p in packages if p not in already])
    if settings.get("TEMPLATE_DIR") and not os.environ.get(TEMPLATE_DIR_ENV):
        env[TEMPLATE_DIR_ENV] = _expand(settings.get("TEMPLATE_DIR"))
    return env


@contextlib.contextmanager
def applied(settings):
    """``task_environment`` set for the command's duration; an in-process caller
    (a test, a script calling ``main``) gets its environment back."""
    env = task_environment(settings)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield settings
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def set_option_defaults(parsers, table, settings):
    """Make FW_config values the defaults of the options they stand for; ``table``
    maps (command or None for the top level, option dest) to a key. An option
    given on the command line still wins."""
    for (command, dest), key in table.items():
        parser = parsers.get(command)
        if parser is not None and settings.get(key) is not None:
            parser.set_defaults(**{dest: settings.get(key)})


def launchpad_config(settings, path):
    """The LaunchpadConfig of ``path``, with MONGO_SOCKET_TIMEOUT_MS as MongoDB's
    socketTimeoutMS unless the file's mongoclient_kwargs set it."""
    import dataclasses

    from .config import load_config

    config = load_config(path)
    timeout = settings.get("MONGO_SOCKET_TIMEOUT_MS")
    if timeout is None or config.kind != "mongodb" or "socketTimeoutMS" in config.client_kwargs:
        return config
    return dataclasses.replace(
        config, client_kwargs={**config.client_kwargs, "socketTimeoutMS": int(timeout)}
    )


def open_launchpad(settings, explicit=None, config_dir=None):
    """The LaunchPad a command works on, found in docs/stores.md's order."""
    from .launchpad import LaunchPad

    path = settings.find_file("launchpad", explicit, config_dir)
    return LaunchPad.from_config(launchpad_config(settings, path))


def fireworks_setting(name):
    """A FireWorks ``fw_config`` constant as the FW_config.yaml in force sets it (else
    FireWorks' default); the *_LOC names give the file a command would open, or None."""
    settings = load_fw_settings(quiet=True)
    kinds = {key: kind for kind, (_, key, _) in SETTINGS_FILES.items()}
    if name in kinds:
        found = settings.find_file(kinds[name])
        local = SETTINGS_FILES[kinds[name]][0]
        if found is None and os.path.exists(local):
            found = local
        return os.path.abspath(found) if found else None
    if name not in FIREWORKS_DEFAULTS:
        raise AttributeError(f"module 'launchpad.fw_config' has no attribute {name!r}")
    value = settings.get(name)
    return FIREWORKS_DEFAULTS[name] if value is None else value


def get_fworker(fworker=None):
    """FireWorks' ``rocket_launcher.get_fworker``: ``fworker`` if given, else the worker of
    the file FWORKER_LOC names (FW_config.yaml, or my_fworker.yaml), else the default."""
    from .worker import FWorker, fworker_from_dict  # the worker's modules load only when asked

    if fworker:
        return fworker
    path = fireworks_setting("FWORKER_LOC")
    return fworker_from_dict(read_settings_file(path, "worker file"), source=path) if path else FWorker()


def __getattr__(name):
    """``from launchpad.fw_config import LAUNCHPAD_LOC`` as from FireWorks' ``fw_config``:
    read when asked (nothing is rewritten at import); see ``fireworks_setting``."""
    if not name.isupper():
        raise AttributeError(f"module 'launchpad.fw_config' has no attribute {name!r}")
    return fireworks_setting(name)
