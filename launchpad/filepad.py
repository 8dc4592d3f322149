"""The FilePad: files kept in the LaunchPad's store, with FireWorks' API.

``FilePad.auto_load()`` finds the store the way ``LaunchPad.auto_load`` does
(the same my_launchpad.yaml, else the embedded default), so workflows and
their files live side by side: GridFS on MongoDB (FireWorks' collections,
readable by both), chunk rows in the embedded SQLite file. Contents stream
through in blocks, compressed with zlib as FireWorks does; only ``get_file``
and friends, whose FireWorks contract is to return the bytes, hold a whole
file in memory: ``save_file`` writes one to disk block by block.
"""

import logging
import os
import uuid
import zlib

from .config import (
    config_from_dict,
    find_launchpad_file,
    load_config,
    read_settings_file,
)
from .errors import ConfigError, InvalidArgumentError
from .lp_settings import CONNECTION_KEYS
from .stores import open_files, open_store
from .stores.filepad_base import CHUNK_BYTES, rechunk

log = logging.getLogger(__name__)

DESCENDING = -1
READ_BYTES = CHUNK_BYTES // 4  # small reads keep the copies on the way to a stored block small
# Keys of a FireWorks filepad/db file that are not launchpad settings.
_FILEPAD_KEYS = (
    "filepad",
    "filepad_gridfs",
    "text_mode",
    "admin_user",
    "admin_password",
    "readonly_user",
    "readonly_password",
)
_CONNECTION_ARGS = CONNECTION_KEYS  # FireWorks' LaunchPad arguments, which FilePad takes too


def _read_blocks(path, text_mode=False):
    """A file's bytes, block by block (text mode: newlines normalised, as FireWorks' "r")."""
    try:
        with open(path, "r" if text_mode else "rb", encoding="utf-8" if text_mode else None) as f:
            while block := f.read(READ_BYTES):
                yield block.encode("utf-8") if text_mode else block
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read {path}: {exc.strerror or exc}") from None


def _compressed(blocks, compress):
    if not compress:
        yield from blocks
        return
    compressor = zlib.compressobj()
    for block in blocks:
        out = compressor.compress(block)
        if out:
            yield out
    yield compressor.flush()


def _decompressed(blocks, compressed):
    if not compressed:
        yield from blocks
        return
    decompressor = zlib.decompressobj()
    for block in blocks:
        out = decompressor.decompress(block, CHUNK_BYTES)
        while out:
            yield out
            out = decompressor.decompress(decompressor.unconsumed_tail, CHUNK_BYTES)
    yield decompressor.flush()


def _fireworks_credentials(data, admin):
    """FireWorks' db-file users: admin_* or readonly_* win over username/password."""
    role = "admin" if admin else "readonly"
    settings = {k: v for k, v in data.items() if k not in _FILEPAD_KEYS}
    for key in ("user", "password"):
        value = data.get(f"{role}_{key}")
        if value is not None:
            settings["username" if key == "user" else "password"] = value
    return settings


class FilePad:
    """Files by identifier in the LaunchPad's store: add, get, update, delete, query."""

    def __init__(
        self,
        host=None,
        port=None,
        name=None,
        username=None,
        password=None,
        authsource=None,
        uri_mode=False,
        mongoclient_kwargs=None,
        filepad_coll_name="filepad",
        gridfs_coll_name="filepad_gfs",
        logdir=None,
        strm_lvl=None,
        text_mode=False,
        *,
        store=None,
    ):
        """FireWorks' arguments name a MongoDB; with none of them (or ``store=``), the
        LaunchPad's own store is used. ``logdir``/``strm_lvl`` are accepted and unused:
        messages go to the ``launchpad.filepad`` logger."""
        self._owns_store = store is None  # close() leaves a store it was lent alone
        if store is None:
            given = {
                "host": host,
                "port": port,
                "name": name,
                "username": username,
                "password": password,
                "authsource": authsource,
                "uri_mode": uri_mode,
                "mongoclient_kwargs": mongoclient_kwargs,
            }
            given = {k: v for k, v in given.items() if v not in (None, False)}
            config = config_from_dict({"store": "mongodb", **given}) if given else load_config()
            store = _open(config)
        self.store = store
        self.text_mode = bool(text_mode)
        self.filepad_coll_name, self.gridfs_coll_name = filepad_coll_name, gridfs_coll_name
        self.files = open_files(store, filepad_coll_name, gridfs_coll_name)

    # -- finding the store ---------------------------------------------------------
    @classmethod
    def from_db_file(cls, db_file, admin=True):
        """The FilePad a launchpad or FireWorks db file names (``filepad``,
        ``filepad_gridfs``, ``text_mode``, ``admin_user``... are read too)."""
        data = read_settings_file(db_file, "filepad file")
        if not isinstance(data, dict):
            raise ConfigError(f"{db_file}: expected a mapping of settings")
        config = config_from_dict(_fireworks_credentials(data, admin), source=os.path.abspath(db_file))
        pad = cls(
            store=_open(config),
            text_mode=data.get("text_mode", False),
            filepad_coll_name=data.get("filepad", "filepad"),
            gridfs_coll_name=data.get("filepad_gridfs", "filepad_gfs"),
        )
        pad._owns_store = True
        return pad

    @classmethod
    def auto_load(cls):
        """The FilePad of the launchpad file LaunchPad.auto_load would use, else the embedded store."""
        path = find_launchpad_file()
        return cls.from_db_file(path) if path else cls()

    def describe(self):
        return self.files.describe()

    def close(self):
        """Close the store this FilePad opened (not one passed in with ``store=``)."""
        if self._owns_store:
            self.store.close()

    def build_indexes(self, indexes=None, background=True):
        """FireWorks' unique indexes on identifier and gfs_id (the embedded store always has them)."""
        build = getattr(self.files, "build_indexes", None)
        if build is not None:
            build(tuple(indexes or ("identifier", "gfs_id")), background)

    # -- adding ----------------------------------------------------------------------
    def add_file(self, path, identifier=None, compress=True, metadata=None):
        """Store the file at ``path``; returns (gfs_id, identifier).

        An identifier already in the pad is kept as it is (a warning says so) and
        its ids are returned; without one, the new gfs_id is the identifier.
        """
        path = os.path.abspath(path)
        if not os.path.isfile(path):
            raise InvalidArgumentError(f"cannot add {path} to the FilePad: no such file")
        doc = {"original_file_name": os.path.basename(path), "original_file_path": path}
        return self._add(doc, _read_blocks(path, self.text_mode), identifier, compress, metadata)

    def add_contents(self, contents, identifier=None, compress=True, metadata=None):
        """Store ``contents`` (bytes, or text stored as UTF-8); returns (gfs_id, identifier)."""
        if isinstance(contents, str):
            contents = contents.encode("utf-8")
        return self._add({}, [bytes(contents)], identifier, compress, metadata)

    def _add(self, doc, blocks, identifier, compress, metadata):
        if identifier is not None:
            existing = self.files.find_one({"identifier": identifier})
            if existing is not None:
                log.warning("identifier %r is already in the FilePad; not adding it again", identifier)
                return existing["gfs_id"], existing["identifier"]
        gfs_id = self.files.new_id()
        doc = {
            "identifier": identifier if identifier is not None else gfs_id,
            **doc,
            "metadata": metadata,
            "compressed": bool(compress),
            "gfs_id": gfs_id,
        }
        stored = self.files.put(doc, rechunk(_compressed(blocks, compress)))
        if stored["gfs_id"] != gfs_id:
            log.warning("identifier %r is already in the FilePad; not adding it again", identifier)
        return stored["gfs_id"], stored["identifier"]

    # -- reading -----------------------------------------------------------------------
    def find(self, query=None, sort_key=None, sort_direction=DESCENDING):
        """The docs (no contents) of the files matching a Mongo-style ``query``."""
        return self.files.find(query, [(sort_key, sort_direction)] if sort_key else None)

    def _contents(self, doc):
        if doc is None:
            return None, None
        return b"".join(self.iter_contents(doc)), doc

    def iter_contents(self, doc):
        """A file's contents block by block, uncompressed: for files too big for memory."""
        return _decompressed(self.files.read(doc["gfs_id"]), doc.get("compressed"))

    def get_file(self, identifier):
        """(contents as bytes, doc) of the file ``identifier``; (None, None) if there is none."""
        return self._contents(self.files.find_one({"identifier": identifier}))

    def get_file_by_id(self, gfs_id):
        return self._contents(self.files.find_one({"gfs_id": gfs_id}))

    def get_file_by_query(self, query, sort_key=None, sort_direction=DESCENDING):
        """[(contents, doc)] of every match: all in memory, so prefer ``find`` + ``save_file``
        for big files."""
        return [self._contents(doc) for doc in self.find(query, sort_key, sort_direction)]

    def save_file(self, identifier, path):
        """Write the file ``identifier`` to ``path`` block by block; returns its doc (None if absent)."""
        doc = self.files.find_one({"identifier": identifier})
        if doc is not None:
            self.save_doc(doc, path)
        return doc

    def save_doc(self, doc, path):
        """Write the file of ``doc`` to ``path``: whole or not at all (a temporary file, then a rename)."""
        path = os.path.abspath(path)
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        try:
            with os.fdopen(fd, "wb") as out:
                for block in self.iter_contents(doc):
                    out.write(block)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def count(self, filter=None):
        """How many files match ``filter`` (FireWorks' method, which pymongo 4 broke there)."""
        return self.files.count(filter)

    # -- changing ---------------------------------------------------------------------
    def update_file(self, identifier, path, compress=True):
        """New contents for the file ``identifier``; returns (old gfs_id, new gfs_id), or (None, None)."""
        return self._update(self.files.find_one({"identifier": identifier}), path, compress)

    def update_file_by_id(self, gfs_id, path, compress=True):
        return self._update(self.files.find_one({"gfs_id": gfs_id}), path, compress)

    def _update(self, doc, path, compress):
        if doc is None:
            return None, None
        new_id = self.files.new_id()
        blocks = rechunk(_compressed(_read_blocks(os.path.abspath(path), self.text_mode), compress))
        if not self.files.replace(doc, new_id, blocks, compress):
            return None, None
        return doc["gfs_id"], new_id

    def delete_file(self, identifier):
        doc = self.files.find_one({"identifier": identifier})
        if doc is None:
            log.warning("no file %r in the FilePad to delete", identifier)
        else:
            self.files.delete(doc["gfs_id"])

    def delete_file_by_id(self, gfs_id):
        self.files.delete(gfs_id)

    def delete_file_by_query(self, query):
        for doc in self.files.find(query):
            self.files.delete(doc["gfs_id"])

    def reset(self):
        """Remove every file (the workflows stay)."""
        self.files.reset()


def _open(config):
    if config.kind == "gateway":
        raise ConfigError(
            f"{config.source}: names a gateway, and the FilePad needs the store "
            "itself; give the task a filepad_file naming the store, or run it "
            "where the store can be reached"
        )
    return open_store(config)
