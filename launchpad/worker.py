"""Workers: ``my_fworker.yaml`` (name, category, query, env) as in FireWorks.

A worker decides which fireworks a rocket may pick up (``_category``,
``_fworker`` and a query) and carries settings for the tasks it runs.
"""

import json
import socket
from dataclasses import dataclass, field

from .config import FWORKER_FILE, find_settings_file, read_settings_file
from .errors import ConfigError, InvalidQueryError
from .query import parse_query
from .serializable import DATETIME_HANDLER, OwnDatesSerializable
from .stores import WorkerFilter

_KNOWN = {"name", "category", "query", "env", "allow_outside_launch_dir", "confine_launch_dir", "_fw_name"}


@dataclass(frozen=True)
class FWorker(OwnDatesSerializable):
    name: str = "Automatically generated Worker"
    category: object = None
    query: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    allow_outside_launch_dir: bool = False
    # A site's opt-in: _launch_dir and file tasks' writes stay under the rocket's directory.
    confine_launch_dir: bool = False

    @property
    def confined(self):
        """Whether this worker keeps fireworks inside the rocket's directory (not FireWorks' default)."""
        return self.confine_launch_dir and not self.allow_outside_launch_dir

    def filter(self):
        return WorkerFilter(name=self.name, category=self.category, query=self.query)

    def to_dict(self):
        """FireWorks' form: the query as JSON text (so FireWorks can read it back)."""
        d = {
            "name": self.name,
            "category": self.category,
            "query": json.dumps(self.query or {}, default=DATETIME_HANDLER),
            "env": dict(self.env),
        }
        if self.allow_outside_launch_dir:
            d["allow_outside_launch_dir"] = True
        if self.confine_launch_dir:
            d["confine_launch_dir"] = True
        return d

    @classmethod
    def from_dict(cls, m_dict):
        """From FireWorks' form (query as JSON text) or a launch record's (query a mapping)."""
        query = m_dict.get("query") or {}
        if isinstance(query, str):
            query = json.loads(query) if query.strip() else {}
        return cls(
            name=m_dict.get("name") or cls.name,
            category=m_dict.get("category"),
            query=dict(query),
            env=dict(m_dict.get("env") or {}),
            allow_outside_launch_dir=bool(m_dict.get("allow_outside_launch_dir", False)),
            confine_launch_dir=bool(m_dict.get("confine_launch_dir", False)),
        )


def find_fworker_file(explicit=None):
    return find_settings_file(FWORKER_FILE, "worker file (-w)", explicit)


def load_fworker(path=None):
    """The worker from ``path`` (or ./my_fworker.yaml, ~/.starshell/), else the default."""
    path = find_fworker_file(path)
    if path is None:
        return FWorker()
    return fworker_from_dict(read_settings_file(path, "worker file"), source=path)


def fworker_from_dict(data, source="worker"):
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with name, category, query, env")
    unknown = set(data) - _KNOWN
    if unknown:
        raise ConfigError(f"{source}: unknown worker setting(s): {', '.join(sorted(unknown))}")
    query = data.get("query") or {}
    try:
        query = parse_query(query)
    except InvalidQueryError as exc:
        raise ConfigError(f"{source}: bad query: {exc}") from None
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise ConfigError(f"{source}: env must be a mapping")
    category = data.get("category")
    if category is not None and not isinstance(category, (str, list)):
        raise ConfigError(f"{source}: category must be a string or a list of strings")
    name = data.get("name") or f"{socket.gethostname()} worker"
    return FWorker(
        name=str(name),
        category=category,
        query=query,
        env=dict(env),
        allow_outside_launch_dir=bool(data.get("allow_outside_launch_dir", False)),
        confine_launch_dir=bool(data.get("confine_launch_dir", False)),
    )


def env_chk(val, fw_spec, strict=True, default=None):
    """atomate's helper over FireWorks' ``_fw_env``: ``">>KEY<<"`` is the running worker's
    ``env[KEY]`` (so one workflow finds each machine's executables and scratch); any other
    value is itself. ``strict``: a missing KEY raises KeyError, else gives ``default``."""
    if val is None:
        return default
    if isinstance(val, str) and val.startswith(">>") and val.endswith("<<"):
        key = val[2:-2]
        if strict:
            return fw_spec["_fw_env"][key]
        return (fw_spec.get("_fw_env") or {}).get(key, default)
    return val
