"""Store backends behind one interface; ``open_store`` picks one from a config."""

from .base import Store, WorkerFilter, index_fields

__all__ = ["Store", "WorkerFilter", "SQLiteStore", "open_store", "open_files", "index_fields"]


def __getattr__(name):
    """Backends load when asked for: a MongoDB user never loads sqlite3's
    store module, an embedded-store user never loads pymongo."""
    if name == "SQLiteStore":
        from .sqlite import SQLiteStore

        return SQLiteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(config):
    """The store a ``launchpad.config.LaunchpadConfig`` describes."""
    if config.kind == "gateway":
        from ..errors import ConfigError

        raise ConfigError(
            f"{config.source or 'the launchpad file'} names a gateway, not a store: "
            "only rockets and read-only commands (LaunchPad.from_file) can use it"
        )
    if config.kind == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(config.path)
    from .mongo import MongoStore

    return MongoStore.connect(
        uri=config.uri,
        host=config.host,
        port=config.port,
        name=config.name,
        username=config.username,
        password=config.password,
        authsource=config.authsource,
        mongomock=config.kind == "mongomock",
        **config.client_kwargs,
    )


def open_files(store, filepad_coll_name="filepad", gridfs_coll_name="filepad_gfs"):
    """The FileBackend that keeps files in ``store`` (collection names: MongoDB's only)."""
    if store.kind == "sqlite":
        from .filepad_sqlite import SQLiteFileBackend

        return SQLiteFileBackend(store)
    from .filepad_mongo import MongoFileBackend

    return MongoFileBackend(store.db, filepad_coll_name, gridfs_coll_name, store.describe())
