"""FilePad files in MongoDB: docs in ``filepad``, contents in GridFS ``filepad_gfs``.

The collections and fields are FireWorks' own, so a FilePad FireWorks
filled is read as it is, and the other way round. MongoDB has no
transaction across GridFS and a collection here, so the order of writes
keeps every doc pointing at whole contents: contents are stored before
their doc appears, and a doc goes before its contents.
"""

import gridfs
from bson.objectid import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from .filepad_base import CHUNK_BYTES, FileBackend
from .mongo import _vetted

FILEPAD_COLLECTION = "filepad"
GRIDFS_COLLECTION = "filepad_gfs"


def _gridfs(db, name):
    """GridFS on ``db``; mongomock needs its GridFS support switched on first."""
    if type(db).__module__.startswith("mongomock"):
        import mongomock.gridfs

        mongomock.gridfs.enable_gridfs_integration()
    return gridfs.GridFS(db, collection=name)


class MongoFileBackend(FileBackend):
    """Files in the database of a ``MongoStore`` (or any pymongo/mongomock database)."""

    def __init__(
        self,
        db,
        filepad_coll_name=FILEPAD_COLLECTION,
        gridfs_coll_name=GRIDFS_COLLECTION,
        description="mongodb",
    ):
        self.db = db
        self.docs = db[filepad_coll_name]
        self.gridfs_coll_name = gridfs_coll_name
        self.fs = _gridfs(db, gridfs_coll_name)
        self._description = description
        self.build_indexes()

    def build_indexes(self, indexes=("identifier", "gfs_id"), background=True):
        for field in indexes:
            self.docs.create_index(field, unique=True, background=background)

    def describe(self):
        return self._description

    def new_id(self):
        return str(ObjectId())

    def _store_contents(self, gfs_id, blocks):
        grid_in = self.fs.new_file(_id=ObjectId(gfs_id), chunkSize=CHUNK_BYTES)
        try:
            for block in blocks:
                grid_in.write(block)
        except BaseException:
            grid_in.abort()
            raise
        grid_in.close()

    def put(self, doc, blocks):
        existing = self.find_one({"identifier": doc["identifier"]})
        if existing is not None:
            return existing
        self._store_contents(doc["gfs_id"], blocks)
        try:
            self.docs.insert_one(dict(doc))
        except DuplicateKeyError:  # another process took the identifier meanwhile
            self.fs.delete(ObjectId(doc["gfs_id"]))
            return self.find_one({"identifier": doc["identifier"]}) or doc
        except BaseException:
            self.fs.delete(ObjectId(doc["gfs_id"]))
            raise
        return doc

    def find(self, query=None, sort=None):
        cursor = self.docs.find(_vetted(query or {}), {"_id": 0})
        if sort:
            cursor = cursor.sort([(f, ASCENDING if d > 0 else DESCENDING) for f, d in sort])
        return list(cursor)

    def read(self, gfs_id):
        grid_out = self.fs.get(ObjectId(gfs_id))  # iterating it would split at newlines
        while True:
            block = grid_out.read(CHUNK_BYTES)
            if not block:
                return
            yield block

    def replace(self, doc, new_id, blocks, compressed):
        old_id = doc["gfs_id"]
        self._store_contents(new_id, blocks)
        result = self.docs.update_one(
            {"gfs_id": old_id}, {"$set": {"gfs_id": new_id, "compressed": bool(compressed)}}
        )
        if not result.matched_count:
            self.fs.delete(ObjectId(new_id))
            return False
        self.fs.delete(ObjectId(old_id))
        return True

    def delete(self, gfs_id):
        self.docs.delete_one({"gfs_id": gfs_id})
        self.fs.delete(ObjectId(gfs_id))

    def count(self, query=None):
        return self.docs.count_documents(_vetted(query or {}))

    def reset(self):
        self.docs.delete_many({})
        self.db[self.gridfs_coll_name].files.delete_many({})
        self.db[self.gridfs_coll_name].chunks.delete_many({})
        self.build_indexes()
