"""Where the LaunchPad lives: finding and reading ``my_launchpad.yaml``.

With no file at all every command of the same user finds the same embedded
store under ``~/.starshell`` (or ``$STARSHELL_HOME``), whatever the working
directory, so pilot jobs need no flags. FireWorks' MongoDB keys (host,
port, name, username, password, authsource, or a ``mongodb://`` URI) select
MongoDB. ``load_config`` returns a frozen value; nothing is global.
"""

import os
import stat
import sys
from dataclasses import dataclass, field, fields

from .errors import ConfigError

LAUNCHPAD_FILE = "my_launchpad.yaml"
FWORKER_FILE = "my_fworker.yaml"
LAUNCHPAD_ENV = "STARSHELL_LAUNCHPAD"
HOME_ENV = "STARSHELL_HOME"

# FireWorks' LaunchPad arguments that select and reach MongoDB (lp_settings
# gives them back in ``to_dict``; FilePad takes them too).
CONNECTION_KEYS = (
    "host",
    "port",
    "name",
    "username",
    "password",
    "authsource",
    "uri_mode",
    "mongoclient_kwargs",
)
# FireWorks' LaunchPad arguments for its own logger and indexes: accepted, not used here.
LOGGING_KEYS = ("logdir", "strm_lvl", "user_indices", "wf_user_indices")
_MONGO_KEYS = {*CONNECTION_KEYS, "uri"}
_IGNORED_KEYS = {*LOGGING_KEYS, "_fw_name"}
# FireWorks' connection keys -> pymongo's MongoClient keyword arguments.
_CLIENT_KEYS = {
    "ssl": "tls",
    "ssl_ca_certs": "tlsCAFile",
    "ssl_certfile": "tlsCertificateKeyFile",
    "ssl_keyfile": "tlsCertificateKeyFile",
    "ssl_pem_passphrase": "tlsCertificateKeyFilePassword",
    "authmechanism": "authMechanism",
    "replicaset": "replicaSet",
}


def starshell_home():
    return os.path.abspath(os.path.expanduser(os.environ.get(HOME_ENV) or "~/.starshell"))


def default_store_path():
    return os.path.join(starshell_home(), "launchpad.sqlite")


@dataclass(frozen=True)
class LaunchpadConfig:
    kind: str = "sqlite"  # sqlite | mongodb | mongomock
    path: str = field(default_factory=default_store_path)
    uri: str = None
    host: str = "localhost"
    port: int = 27017
    name: str = "fireworks"
    username: str = None
    password: str = field(default=None, repr=False)
    authsource: str = None
    client_kwargs: dict = field(default_factory=dict)
    source: str = None  # the file it came from, if any
    gateway: str = None  # kind "gateway": the URL of `lpad gateway`
    token_file: str = None  # kind "gateway": the file holding this client's token
    ca_file: str = None  # kind "gateway": the CA of an https gateway's certificate

    def __repr__(self):
        """The dataclass's repr without credentials: configs end up in logs and tracebacks."""
        from .redact import redact_uri

        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if not f.repr:
                continue
            if f.name in ("uri", "host") and value:
                value = redact_uri(value)
            elif f.name == "client_kwargs":
                value = {k: "***" if _looks_secret(k) else v for k, v in value.items()}
            shown.append(f"{f.name}={value!r}")
        return f"LaunchpadConfig({', '.join(shown)})"

    def describe(self):
        """Where the store is, never with credentials."""
        if self.kind == "sqlite":
            return f"embedded store {self.path}"
        if self.kind == "gateway":
            return f"gateway {self.gateway}"
        if self.uri:
            from .redact import redact_uri

            return f"MongoDB {redact_uri(self.uri)}"
        return f"MongoDB {self.host}:{self.port}/{self.name}"


def _looks_secret(key):
    return any(word in str(key).lower() for word in ("pass", "secret", "key", "token"))


def find_settings_file(name, what, explicit=None, env_var=None):
    """The settings file in force: ``explicit``, then ``$env_var``, then ./name,
    then $STARSHELL_HOME/name; None when there is none. One lookup order for the
    launchpad, worker and queue-adapter files. A file named on the command line
    is used or refused, never replaced by another one."""
    if explicit is not None:
        return _given_file(what, explicit)
    from_env = os.environ.get(env_var) if env_var else None
    if from_env:
        if not os.path.exists(from_env):
            raise ConfigError(f"${env_var} names {from_env}, which does not exist")
        return from_env
    for candidate in (name, os.path.join(starshell_home(), name)):
        if os.path.exists(candidate):
            return candidate
    return None


def nonempty_path(path, what):
    """``-l ""`` is most often an unset shell variable: refuse it rather than fall
    back to the default file or store, which may be another project's."""
    if not str(path).strip():
        raise ConfigError(
            f"{what}: an empty path was given (an unset variable?); give the "
            "file's path, or leave the option out to use the default"
        )
    return path


def _given_file(what, path):
    nonempty_path(path, what)
    if not os.path.exists(path):
        raise ConfigError(f"{what} {path} does not exist (looked from {os.getcwd()}); check the path")
    return path


def read_settings_file(path, what):
    """The mapping in a settings file; an empty file is an error, not the defaults,
    since it is most often one whose writing failed."""
    from .files import read_yaml_file  # ruamel.yaml loads only when there is a file to read

    data = read_yaml_file(path)
    if data is None:
        raise ConfigError(
            f"{path}: the {what} is empty; write its settings in it, or remove it to use the default"
        )
    return data


def find_launchpad_file(explicit=None):
    """The launchpad file in force: -l, $STARSHELL_LAUNCHPAD, ./, ~/.starshell/."""
    return find_settings_file(LAUNCHPAD_FILE, "launchpad file (-l)", explicit, LAUNCHPAD_ENV)


def load_config(path=None):
    """The LaunchpadConfig from ``path`` (or the file found), else the embedded default."""
    path = find_launchpad_file(path)
    if path is None:
        return LaunchpadConfig()
    data = read_settings_file(path, "launchpad file")
    return config_from_dict(data, source=os.path.abspath(path))


def config_from_dict(data, source=None):
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}expected a mapping of settings, got {type(data).__name__}")
    _refuse_other_kinds_of_file(data, where)
    if "gateway" in data:
        return _gateway_config(data, source, where)
    kind = str(data.get("store") or ("mongodb" if _MONGO_KEYS & set(data) else "sqlite")).lower()
    if kind in ("sqlite", "embedded"):
        return _sqlite_config(data, source, where)
    if kind not in ("mongodb", "mongo", "mongomock"):
        raise ConfigError(f"{where}unknown store {kind!r}; use sqlite or mongodb")
    unknown = set(data) - _MONGO_KEYS - _IGNORED_KEYS - set(_CLIENT_KEYS) - {"store"}
    if unknown:
        raise ConfigError(f"{where}unknown setting(s): {', '.join(sorted(unknown))}")
    host = data.get("host") or "localhost"
    uri = data.get("uri")
    if not uri and (data.get("uri_mode") or str(host).startswith(("mongodb://", "mongodb+srv://"))):
        uri = host
    port = data.get("port") or 27017
    try:
        if isinstance(port, bool):
            raise TypeError
        port = int(port)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}port must be a number, got {data.get('port')!r}") from None
    kwargs = data.get("mongoclient_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where}mongoclient_kwargs must be a mapping")
    kwargs = {
        **{_CLIENT_KEYS[k]: v for k, v in data.items() if k in _CLIENT_KEYS and v not in (None, "")},
        **kwargs,
    }
    if source and (data.get("password") or _has_credentials(uri)):
        warn_if_readable(source)
    return LaunchpadConfig(
        kind="mongomock" if kind == "mongomock" else "mongodb",
        uri=uri,
        host=str(host),
        port=port,
        name=str(data.get("name") or "fireworks"),
        username=data.get("username"),
        password=data.get("password"),
        authsource=data.get("authsource"),
        client_kwargs=dict(kwargs),
        source=source,
    )


def _sqlite_config(data, source, where):
    unknown = set(data) - {"store", "path"} - _IGNORED_KEYS
    if unknown:
        raise ConfigError(
            f"{where}unknown setting(s) for the embedded store: "
            f"{', '.join(sorted(map(str, unknown)))}; it takes store: sqlite and path"
        )
    path = data.get("path") or default_store_path()
    if not os.path.isabs(os.path.expanduser(str(path))) and source:
        path = os.path.join(os.path.dirname(source), str(path))
    return LaunchpadConfig(kind="sqlite", path=os.path.abspath(os.path.expanduser(str(path))), source=source)


_GATEWAY_KEYS = {"gateway", "token_file", "ca_file"}


def _gateway_config(data, source, where):
    """A compute node's file: the gateway's URL and the token file, paths relative to the file."""
    unknown = set(data) - _GATEWAY_KEYS - _IGNORED_KEYS
    if unknown:
        raise ConfigError(
            f"{where}unknown setting(s) for a gateway: {', '.join(sorted(map(str, unknown)))}"
            "; it takes gateway, token_file and ca_file"
        )
    if not data.get("gateway") or not data.get("token_file"):
        raise ConfigError(
            f"{where}a gateway file needs gateway: http://HOST:PORT and "
            "token_file: the file holding this node's token"
        )
    base = os.path.dirname(source) if source else os.getcwd()

    def resolve(path):
        return path and os.path.join(base, os.path.expanduser(str(path)))

    return LaunchpadConfig(
        kind="gateway",
        gateway=str(data["gateway"]),
        token_file=resolve(data["token_file"]),
        ca_file=resolve(data.get("ca_file")),
        source=source,
    )


def _refuse_other_kinds_of_file(data, where):
    """FireWorks users keep several YAML files side by side; name the one given by mistake."""
    keys = {str(k) for k in data}
    if keys and all(k.isupper() or k.startswith("_") and k[1:].isupper() for k in keys):
        hint = ""
        if data.get("LAUNCHPAD_LOC"):
            hint = f" Its LAUNCHPAD_LOC names {data['LAUNCHPAD_LOC']}: pass that file with -l."
        raise ConfigError(
            f"{where}this looks like FireWorks' global FW_config.yaml ({', '.join(sorted(keys)[:3])}), "
            "not a launchpad file: starshell reads it as ./FW_config.yaml, ~/.fireworks/"
            "FW_config.yaml or $FW_CONFIG_FILE; give a launchpad file (my_launchpad.yaml with host, "
            f"port, name... or store: sqlite and path), or run lpad init.{hint}"
        )
    if "_fw_q_type" in keys or "rocket_launch" in keys:
        raise ConfigError(
            f"{where}this is a queue adapter file (qadapter), not a launchpad file; "
            "give it to qlaunch with -q"
        )
    if "fws" in keys or "spec" in keys:
        raise ConfigError(f"{where}this is a workflow file, not a launchpad file; add it with lpad add")
    worker_keys = {"name", "category", "query", "env", "allow_outside_launch_dir", "confine_launch_dir"}
    if keys & (worker_keys - {"name"}) and keys <= worker_keys:
        raise ConfigError(
            f"{where}this is a worker file (my_fworker.yaml), not a launchpad "
            "file; give it to rlaunch with -w"
        )


def _has_credentials(uri):
    return bool(uri) and "@" in str(uri).split("//", 1)[-1].split("/", 1)[0]


def warn_if_readable(path):
    """Warn when a file holding a password can be read by other users."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        print(
            f"warning: {path} holds a password and is readable by other users; run: chmod 600 {path}",
            file=sys.stderr,
        )


def config_to_dict(config):
    """The file form of a config (as ``lpad init`` writes it)."""
    if config.kind == "sqlite":
        return {"store": "sqlite", "path": config.path}
    if config.kind == "gateway":
        return {k: getattr(config, k) for k in sorted(_GATEWAY_KEYS) if getattr(config, k)}
    out = {
        "host": config.uri or config.host,
        "port": config.port,
        "name": config.name,
        "username": config.username,
        "password": config.password,
    }
    if config.authsource:
        out["authsource"] = config.authsource
    return out
