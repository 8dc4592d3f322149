"""Reading a FireWorks 2.x database, read-only, for ``lpad admin import_fireworks``.

FireWorks keeps its data in the collections ``workflows`` (``nodes``,
``links``, ``metadata``...), ``fireworks``, ``launches`` and
``fw_id_assigner``. They are read from a MongoDB server (pymongo), or from
the JSON file that FireWorks' embedded store (mongomock-persistence, named
by ``MONGOMOCK_SERVERSTORE_FILE`` in FW_config.yaml) writes: per database,
per collection, a list of ``[_id, document]`` pairs in BSON extended JSON.

Both sources hand out plain documents: BSON dates become timezone-aware
datetimes' ISO text, ObjectIds their hex text, so the importer never sees a
bson type. Nothing is ever written to the FireWorks database.
"""

import datetime
import os

from ..errors import ConfigError, StoreUnavailableError

_COLLECTIONS = ("workflows", "fireworks", "launches", "fw_id_assigner", "offline_runs")


def plain(value):
    """``value`` with bson types (dates, ObjectIds, Int64...) as JSON-like data."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):  # bson's Int64 too, as a plain int
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # pymongo hands out naive UTC datetimes
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)  # ObjectId, Decimal128, Regex...: their text


class FireWorksSource:
    """What the importer reads: workflows in order, then their pieces by id."""

    def describe(self):
        raise NotImplementedError

    def workflows(self):
        """Every workflow document, oldest first, with ``_id`` as text."""
        raise NotImplementedError

    def fireworks(self, fw_ids):
        """The firework documents with these ids."""
        raise NotImplementedError

    def launches(self, launch_ids):
        """The launch documents with these ids."""
        raise NotImplementedError

    def launch_ids_of(self):
        """``{fw_id: [launch ids, archived ones too]}`` for every firework."""
        raise NotImplementedError

    def offline_runs(self, launch_ids):
        """FireWorks' ``offline_runs`` documents of these launches (its offline mode's marks)."""
        return []

    def last_ids(self):
        """``{"fw": n, "launch": m}``: the highest ids FireWorks has handed out."""
        raise NotImplementedError

    def close(self):
        """Release the connection."""


def _last_ids(assigner, fws, launches):
    """FireWorks' counters hold the *next* ids; a counter behind the data is ignored."""
    doc = assigner or {}
    return {
        "fw": max([int(doc.get("next_fw_id") or 1) - 1, *fws]),
        "launch": max([int(doc.get("next_launch_id") or 1) - 1, *launches]),
    }


class JsonFileSource(FireWorksSource):
    """A mongomock-persistence file, read whole (FireWorks itself loads it whole too)."""

    def __init__(self, path, name=None):
        self.path = os.path.abspath(os.path.expanduser(path))
        databases = _read_json(self.path)
        self.name = _pick_database(databases, name, self.path)
        cols = {c: _documents(databases[self.name], c, self.path) for c in _COLLECTIONS}
        self._workflows = cols["workflows"]
        self._fws = {d["fw_id"]: d for d in cols["fireworks"] if "fw_id" in d}
        self._launches = {d["launch_id"]: d for d in cols["launches"] if "launch_id" in d}
        self._assigner = cols["fw_id_assigner"][0] if cols["fw_id_assigner"] else None
        self._offline = [d for d in cols["offline_runs"] if "launch_id" in d]

    def describe(self):
        return f"{self.path} (database {self.name})"

    def workflows(self):
        return iter(self._workflows)

    def fireworks(self, fw_ids):
        return [self._fws[i] for i in fw_ids if i in self._fws]

    def launches(self, launch_ids):
        return [self._launches[i] for i in launch_ids if i in self._launches]

    def offline_runs(self, launch_ids):
        wanted = set(launch_ids)
        return [d for d in self._offline if d["launch_id"] in wanted]

    def launch_ids_of(self):
        return {
            i: list(d.get("launches") or []) + list(d.get("archived_launches") or [])
            for i, d in self._fws.items()
        }

    def last_ids(self):
        return _last_ids(self._assigner, self._fws, self._launches)


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the FireWorks store file {path}: {exc.strerror}") from None
    try:
        from bson import json_util

        data = json_util.loads(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not a FireWorks mongomock store file (JSON written by mongomock-persistence): {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a FireWorks mongomock store file: expected a mapping of databases")
    return data


def _pick_database(databases, name, path):
    if name is not None:
        if name not in databases:
            raise ConfigError(
                f"{path} has no database {name!r}; it has: {', '.join(sorted(databases)) or 'none'}"
            )
        return name
    with_fws = sorted(n for n, cols in databases.items() if isinstance(cols, dict) and "workflows" in cols)
    if "fireworks" in with_fws or not with_fws:
        return "fireworks" if "fireworks" in databases else _none_found(path)
    if len(with_fws) > 1:
        raise ConfigError(
            f"{path} holds several FireWorks databases ({', '.join(with_fws)}); choose one with --name"
        )
    return with_fws[0]


def _none_found(path):
    raise ConfigError(
        f"{path} holds no FireWorks database (no 'workflows' collection); "
        "is it the file FW_config.yaml's MONGOMOCK_SERVERSTORE_FILE names?"
    )


def _documents(database, collection, path):
    found = database.get(collection) if isinstance(database, dict) else None
    if found is None:
        return []
    docs = found.get("documents") if isinstance(found, dict) else None
    if not isinstance(docs, list):
        raise ConfigError(
            f"{path}: collection {collection!r} is not in mongomock-persistence's "
            "format (a 'documents' list of [_id, document] pairs)"
        )
    return [plain(pair[1] if isinstance(pair, list) and len(pair) == 2 else pair) for pair in docs]


class MongoSource(FireWorksSource):
    """A FireWorks database on a MongoDB server (or any pymongo-like database object)."""

    def __init__(self, database, description, client=None):
        self.db = database
        self._description = description
        self._client = client

    @classmethod
    def connect(cls, config):
        """The database a ``LaunchpadConfig`` (from ``--uri`` or FireWorks' my_launchpad.yaml)
        names; its credentials reach pymongo, never a message."""
        from pymongo import MongoClient
        from pymongo.uri_parser import parse_uri

        kwargs = dict(config.client_kwargs)
        if "serverselectiontimeoutms" not in str(config.uri or "").lower():  # the URI's wins
            kwargs.setdefault("serverSelectionTimeoutMS", 10000)
        if config.uri:
            client = MongoClient(config.uri, **kwargs)
            name = parse_uri(config.uri).get("database") or config.name
        else:
            if config.username:
                kwargs.update(username=config.username, password=config.password)
                if config.authsource:
                    kwargs["authSource"] = config.authsource
            client = MongoClient(config.host, int(config.port), **kwargs)
            name = config.name
        return cls(client[name], f"{config.describe()} (database {name})", client)

    def describe(self):
        return self._description

    def _read(self, operation):
        from pymongo.errors import PyMongoError

        try:
            return operation()
        except PyMongoError as exc:
            raise StoreUnavailableError(
                f"cannot read the FireWorks database {self._description}: {type(exc).__name__} "
                "(is the server up, and are the address and credentials right?)"
            ) from None

    def workflows(self):
        docs = self._read(lambda: list(self.db.workflows.find({}, {"_id": 1}).sort("_id", 1)))
        ids = [d["_id"] for d in docs]
        for start in range(0, len(ids), 500):  # a cursor held for hours can time out
            chunk = ids[start : start + 500]
            found = {
                d["_id"]: d
                for d in self._read(lambda c=chunk: list(self.db.workflows.find({"_id": {"$in": c}})))
            }
            for i in chunk:
                if i in found:
                    yield plain(found[i])

    def fireworks(self, fw_ids):
        ids = list(fw_ids)
        return [
            plain(d)
            for d in self._read(
                lambda: list(self.db.fireworks.find({"fw_id": {"$in": ids}}).sort("fw_id", 1))
            )
        ]

    def launches(self, launch_ids):
        ids = list(launch_ids)
        return [
            plain(d)
            for d in self._read(
                lambda: list(self.db.launches.find({"launch_id": {"$in": ids}}).sort("launch_id", 1))
            )
        ]

    def offline_runs(self, launch_ids):
        ids = list(launch_ids)
        return [
            plain(d) for d in self._read(lambda: list(self.db.offline_runs.find({"launch_id": {"$in": ids}})))
        ]

    def launch_ids_of(self):
        proj = {"fw_id": 1, "launches": 1, "archived_launches": 1, "_id": 0}
        return {
            d["fw_id"]: list(d.get("launches") or []) + list(d.get("archived_launches") or [])
            for d in self._read(lambda: list(self.db.fireworks.find({}, proj)))
            if "fw_id" in d
        }

    def last_ids(self):
        def top(collection, key):
            found = list(self.db[collection].find({}, {key: 1, "_id": 0}).sort(key, -1).limit(1))
            return [found[0][key]] if found else []

        assigner = self._read(lambda: self.db.fw_id_assigner.find_one({}))
        return _last_ids(
            assigner,
            self._read(lambda: top("fireworks", "fw_id")),
            self._read(lambda: top("launches", "launch_id")),
        )

    def close(self):
        if self._client is not None:
            self._client.close()


def open_source(uri=None, name=None, launchpad_file=None, mongomock_file=None):
    """The FireWorks database the import options name (exactly one of them)."""
    given = [o for o in (uri, launchpad_file, mongomock_file) if o]
    if len(given) != 1:
        raise ConfigError(
            "name the FireWorks database once: --uri, --fireworks_launchpad or --mongomock_file"
        )
    if mongomock_file:
        return JsonFileSource(mongomock_file, name)
    from ..config import LaunchpadConfig, load_config

    if uri:
        if not uri.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError(f"--uri must start with mongodb:// or mongodb+srv://, got {uri[:20]!r}")
        config = LaunchpadConfig(kind="mongodb", uri=uri, name=name or "fireworks")
    else:
        config = load_config(launchpad_file)
        if config.kind != "mongodb":
            raise ConfigError(
                f"{launchpad_file} does not name a MongoDB database (host, port, "
                "name...): give FireWorks' my_launchpad.yaml"
            )
        if name:
            config = LaunchpadConfig(**{**config.__dict__, "name": name})
    return MongoSource.connect(config)


__all__ = ["FireWorksSource", "JsonFileSource", "MongoSource", "open_source", "plain"]
