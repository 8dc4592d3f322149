"""FireWorks' LaunchPad constructor arguments, its ``to_dict`` form, and its raw collections.

FireWorks scripts build ``LaunchPad(host, port, name, username, password, ...)``
and save it with ``to_file``; those arguments select MongoDB, as in FireWorks.
Arguments FireWorks uses for its own logger and indexes (``logdir``,
``strm_lvl``, ``user_indices``, ``wf_user_indices``) are kept and given back
by ``to_dict``; ``get_logdir`` returns ``logdir``.
"""

import os

from .config import CONNECTION_KEYS, LOGGING_KEYS, config_from_dict
from .errors import InvalidArgumentError, NoRawCollectionError

SETTING_KEYS = CONNECTION_KEYS + LOGGING_KEYS


def fireworks_settings(**given):
    """FireWorks' constructor arguments with its defaults filled in (as ``to_dict`` shows them)."""
    uri_mode = bool(given.get("uri_mode"))
    name = given.get("name") or (None if uri_mode else "fireworks")
    return {
        "host": given.get("host") or (None if uri_mode else "localhost"),
        "port": given.get("port") or (None if uri_mode else 27017),
        "name": name,
        "username": given.get("username"),
        "password": given.get("password"),
        "logdir": given.get("logdir"),
        "strm_lvl": given.get("strm_lvl") or "INFO",
        "user_indices": list(given.get("user_indices") or []),
        "wf_user_indices": list(given.get("wf_user_indices") or []),
        "authsource": given.get("authsource") or name,
        "uri_mode": uri_mode,
        "mongoclient_kwargs": dict(given.get("mongoclient_kwargs") or {}),
    }


def selects_mongodb(given):
    """Whether constructor arguments name a MongoDB server (any connection argument set)."""
    return any(given.get(k) not in (None, False, {}, "") for k in CONNECTION_KEYS)


def config_from_settings(settings):
    """The LaunchpadConfig for FireWorks' arguments (a ``mongodb://`` host with ``uri_mode``)."""
    if settings["uri_mode"] and not str(settings["host"] or "").startswith(("mongodb://", "mongodb+srv://")):
        raise InvalidArgumentError("uri_mode needs host to be a mongodb:// connection string")
    data = {k: settings[k] for k in CONNECTION_KEYS if settings[k] not in (None, {})}
    if settings["uri_mode"]:
        data = {"host": settings["host"], "uri_mode": True, "name": settings["name"] or "fireworks"}
        if settings["mongoclient_kwargs"]:
            data["mongoclient_kwargs"] = settings["mongoclient_kwargs"]
    return config_from_dict(data)


def settings_of_config(config):
    """FireWorks' ``to_dict`` for a LaunchPad opened on MongoDB from a config."""
    if config is None:  # a MongoStore passed in: where it lives is all we know
        return {}
    return fireworks_settings(
        host=config.uri or config.host,
        port=None if config.uri else config.port,
        name=config.name,
        username=config.username,
        password=config.password,
        authsource=config.authsource,
        uri_mode=bool(config.uri),
        mongoclient_kwargs=config.client_kwargs,
    )


def write_settings(settings, filename):
    """A launchpad file (format by extension), private when it holds a password."""
    from .files import dumps, format_of

    text = dumps(settings, format_of(filename, None))
    fd = os.open(
        filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if settings.get("password") else 0o644
    )
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def raw_collection(store, name):
    """The pymongo object FireWorks scripts read (``lp.fireworks.find(...)``), MongoDB only."""
    if getattr(store, "kind", None) == "mongodb":
        return getattr(store, name)
    uses = {
        "fireworks": "lp.get_fw_ids(query) or lp.get_fws(query, fields)",
        "launches": "lp.get_launches(query, fields)",
        "workflows": "lp.get_wf_ids(query) or lp.get_wf_summaries(query)",
        "db": "lp.get_fws, lp.get_launches and lp.get_wf_summaries",
    }
    raise NoRawCollectionError(
        f"lp.{name} is FireWorks' raw MongoDB collection; the embedded store has none: use {uses[name]}"
    )
