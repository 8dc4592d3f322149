"""The production store: MongoDB through pymongo (mongomock in tests).

Claims use ``find_one_and_update`` with a sort, atomic on the server.
Writes from one process also take a process lock: it costs nothing on a
real server (per-document operations are atomic there anyway) and makes
mongomock, which is not thread-safe, behave like one, so the threaded
exactly-once test means the same on both.

Only operators mongomock implements faithfully are used: $set, $inc, $in,
$push, comparison operators, find_one_and_update with sort, and $group counts.

A lost connection is retried, but a lost *reply* does not say whether the
server applied the write: every write is therefore made safe to try again
(inserts skip what is there, conditional updates look for their own effect,
a release carries a token so it counts once), so a retry never applies a
write twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import bson
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import AutoReconnect, ConnectionFailure, ExecutionTimeout, OperationFailure, PyMongoError

from ..errors import InvalidQueryError, InvalidWorkflowError, StoreUnavailableError
from ..query import QUERY_SECONDS, check_safe, linear, resolved, timed_out
from ..states import State
from . import mongo_shape
from .base import NO_PRIORITY, Doc, Fields, Query, Sort, Store, WorkerFilter, index_fields

log = logging.getLogger("starshell.store")

_COLLECTIONS = ("fireworks", "workflows", "launches", "counters")
_PRIORITY_MIGRATED = "migrated:unset_priority_lowest"  # a counters document, not an id counter


def _projection(fields):
    proj = {"_id": 0}
    for f in fields or ():
        proj[f] = 1
    return proj


def _vetted(query):
    """Every query, even one from the Python API, is refused if it would run JavaScript;
    its regexes become LinearRegex, which mongomock runs on RE2 (MongoDB gets them as sent)."""
    check_safe(query or {})
    return linear(query) if query else query


def _unstorable(exc):
    return InvalidWorkflowError(
        f"MongoDB cannot store this value ({exc}); integers must fit in 8 bytes, keys must be "
        "text without NUL characters or a leading '$', and nesting must stay under 100 levels"
    )


def _holds(doc, changes):
    """Whether ``doc`` already has every value of a ``$set``: our write happened."""
    return doc is not None and all(doc.get(k) == v for k, v in changes.items())


# Per try; the store tries 1 + retries times, so an unreachable server fails in about
# 25 s (MongoDB's own 30 s per try made it 68 s of silence). The user's value wins.
SELECTION_TIMEOUT_MS = 3000
# A value checked by check_storable goes into one document with the rest of its record:
# MongoDB's 16 MB limit, less room for the rest.
STORABLE_BYTES = 15 * 2**20
# How long the first contact may take before the user is told we are still trying.
FIRST_ANSWER_SECS = 1.0
# Lost connections are tried again this many times, with a back-off from 0.2 s to 5 s;
# fewer when the server never answered at all.
RETRIES = 5
FIRST_CONTACT_RETRIES = 2


def _silent(client, description):
    """Whether the server leaves the first ping unanswered; then one line on stderr says
    so at once, instead of a long silence before the error."""
    import pymongo

    try:
        with pymongo.timeout(FIRST_ANSWER_SECS):
            client.admin.command("ping")
    except ConnectionFailure:
        per_try, tries = client.options.server_selection_timeout, FIRST_CONTACT_RETRIES
        patience = (tries + 1) * per_try + sum(min(0.2 * 2**i, 5.0) for i in range(tries))
        log.warning(
            "no answer from %s within %g s; trying again for up to %.0f s "
            "(serverSelectionTimeoutMS %g per try)",
            description,
            FIRST_ANSWER_SECS,
            patience,
            per_try * 1000,
        )
        return True
    except PyMongoError:  # e.g. a refused login: the first real operation reports it
        pass
    return False


def _listing_launches(fireworks):
    """New firework documents with FireWorks' lists of launch ids (mongo_shape)."""
    return [{"launches": [], "archived_launches": [], **d} for d in fireworks]


def _sort(sort, default):
    return [(f, ASCENDING if d > 0 else DESCENDING) for f, d in (sort or [(default, 1)])]


class MongoStore(Store):
    """A store in a MongoDB database (collections fireworks, workflows, launches)."""

    kind = "mongodb"
    query_seconds = QUERY_SECONDS  # sent as maxTimeMS: the server stops a query after this

    def __init__(self, database, description="mongodb", retries=RETRIES, sleep=None):
        import time

        self.db = database
        self._description = description
        self._lock = threading.RLock()
        self._retries = retries
        self._sleep = sleep or time.sleep
        self.fireworks = database["fireworks"]
        self.workflows = database["workflows"]
        self.launches = database["launches"]
        self.counters = database["counters"]
        self._guard(self._ensure_indexes)

    @classmethod
    def connect(
        cls,
        uri=None,
        host="localhost",
        port=27017,
        name="fireworks",
        username=None,
        password=None,
        authsource=None,
        mongomock=False,
        **client_kwargs,
    ):
        """Open a database from FireWorks-style settings or a ``mongodb://`` URI."""
        if mongomock:
            import mongomock as mm

            client = mm.MongoClient()
            return cls(client[name], description=f"mongomock:{name}")
        from pymongo import MongoClient

        kwargs = dict(client_kwargs)
        if "serverselectiontimeoutms" not in str(uri or "").lower():  # the URI's own value wins
            kwargs.setdefault("serverSelectionTimeoutMS", SELECTION_TIMEOUT_MS)
        if uri:
            client = MongoClient(uri, **kwargs)
            from pymongo.uri_parser import parse_uri

            parsed = parse_uri(uri)
            db_name = parsed.get("database") or name
            where = ",".join(f"{h}:{p}" for h, p in parsed.get("nodelist", []))
        else:
            if username:
                kwargs.update(username=username, password=password)
                if authsource:
                    kwargs["authSource"] = authsource
            client = MongoClient(host, int(port), **kwargs)
            db_name, where = name, f"{host}:{port}"
        description = f"mongodb://{where}/{db_name}"
        # A server silent at the first contact is most often a wrong host, port or network:
        # fewer tries then, so the error comes in seconds; later outages get them all.
        retries = FIRST_CONTACT_RETRIES if _silent(client, description) else RETRIES
        store = cls(client[db_name], description=description, retries=retries)
        store._retries = RETRIES
        return store

    def describe(self) -> str:
        return self._description

    def check_storable(self, value: Any) -> None:
        try:
            size = len(bson.encode({"value": value}))
        except (OverflowError, BSONError, RecursionError, TypeError) as exc:
            raise _unstorable(exc) from None
        if size > STORABLE_BYTES:  # else the write itself fails, half-way through a completion
            raise InvalidWorkflowError(
                f"MongoDB cannot store this value: {size / 2**20:.1f} MB, over its 16 MB document "
                "limit (FireWorks moves such an FWAction to GridFS; starshell does not): keep "
                "large data in files or the FilePad"
            )

    def tuneup(self, full: bool = False) -> list[str]:
        """Missing indexes back; ``full`` also compacts each collection (blocks it on
        some servers: downtime only). A server that cannot compact is named, not fatal."""
        self._guard(self._ensure_indexes)
        steps = ["indexes checked"]
        for name in _COLLECTIONS if full else ():
            try:
                self._guard(lambda n=name: self.db.command({"compact": n}))
                steps.append(f"compacted {name}")
            except (OperationFailure, NotImplementedError, TypeError) as exc:
                steps.append(f"{name} not compacted: {str(exc).splitlines()[0][:120]}")
        return steps

    def _ensure_indexes(self):
        self._unset_priority_lowest()
        mongo_shape.fill_missing(self.db)
        mongo_shape.date_workflows(self.db)
        self.fireworks.create_index("fw_id", unique=True)
        self.fireworks.create_index("launches")  # FireWorks' scripts ask {"launches": launch_id}
        self.fireworks.create_index([("state", ASCENDING), ("priority", DESCENDING), ("fw_id", ASCENDING)])
        self.fireworks.create_index([("wf_id", ASCENDING), ("state", ASCENDING)])
        self.fireworks.create_index("name")  # name searches scan index keys, not documents
        self.workflows.create_index("wf_id", unique=True)
        self.workflows.create_index("name")
        self.workflows.create_index("nodes")  # FireWorks' scripts ask {"nodes": fw_id}
        self.launches.create_index("launch_id", unique=True)
        self.launches.create_index("fw_id")
        self.launches.create_index([("state", ASCENDING), ("last_ping", ASCENDING)])
        self.launches.create_index([("time_end", DESCENDING), ("state", ASCENDING)])  # newest finished

    def _guard(self, operation, recover=None):
        """Run under the process lock; retry lost connections, then fail clearly.

        Before trying a write again, ``recover()`` looks for the effect of
        the attempt whose reply was lost and returns its result if it finds
        it (anything but None).
        """
        delay = 0.2
        for attempt in range(self._retries + 1):
            try:
                with self._lock:
                    if attempt and recover is not None:
                        found = recover()
                        if found is not None:
                            return found
                    return operation()
            except (AutoReconnect, ConnectionFailure) as exc:
                if attempt == self._retries:
                    raise StoreUnavailableError(
                        f"cannot reach {self._description} after {attempt + 1} tries: {type(exc).__name__}"
                    ) from None
                self._sleep(delay)
                delay = min(delay * 2, 5.0)
            except (OverflowError, BSONError, RecursionError) as exc:
                raise _unstorable(exc) from None
            except ExecutionTimeout:
                raise timed_out(self.query_seconds) from None
            except OperationFailure as exc:  # the server refused the query itself
                raise InvalidQueryError(f"{self._description} refused the query: {exc}") from None
            except PyMongoError as exc:
                raise StoreUnavailableError(f"{self._description}: {exc}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MongoStore]:
        # MongoDB without a replica set has no multi-document transactions; the
        # LaunchPad orders its writes so that a crash between them is repairable.
        with self._lock:
            yield self

    def reset(self) -> None:
        def drop():
            for name in _COLLECTIONS:
                self.db[name].delete_many({})

        self._guard(drop)

    def _unset_priority_lowest(self):
        """Once per database: fireworks written while a missing ``_priority`` ranked as 0
        get the key that sorts below every number (FireWorks' claim order)."""
        if self.counters.find_one({"_id": _PRIORITY_MIGRATED}):
            return
        self.fireworks.update_many({"spec._priority": None}, {"$set": {"priority": NO_PRIORITY}})
        self.counters.update_one({"_id": _PRIORITY_MIGRATED}, {"$set": {"last": 1}}, upsert=True)

    def next_ids(self, kind: str, count: int = 1) -> int:
        doc = self._guard(
            lambda: self.counters.find_one_and_update(
                {"_id": kind}, {"$inc": {"last": count}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        )
        return doc["last"] - count + 1

    def insert_workflow(self, wf: Doc, fireworks: list[Doc]) -> None:
        # Fireworks first: a crash before the workflow document leaves rows that no
        # workflow lists, which the checker removes; never a workflow missing pieces.
        insert_fws = self._insert_once(self.fireworks, "fw_id", _listing_launches(fireworks))

        insert_wf: list = []  # made once, so that a retry knows it tried before

        def insert():
            insert_fws()
            if not insert_wf:
                members = fireworks or list(  # an import inserts its fireworks first
                    self.fireworks.find(
                        {"wf_id": wf["wf_id"]}, {"_id": 0, "fw_id": 1, "children": 1, "parents": 1}
                    )
                )
                doc = {**mongo_shape.workflow_in(wf), **mongo_shape.links_of(members)}
                insert_wf.append(self._insert_once(self.workflows, "wf_id", [doc]))
            insert_wf[0]()

        try:
            self._guard(insert)
        except InvalidWorkflowError:  # a document MongoDB cannot hold: leave none of the others
            self._undo_insert(fireworks, wf)
            raise

    def insert_fireworks(self, fireworks: list[Doc]) -> None:
        insert = self._insert_once(self.fireworks, "fw_id", _listing_launches(fireworks))

        def insert_and_link():
            insert()
            mongo_shape.add_nodes(self.workflows, fireworks)

        try:
            self._guard(insert_and_link)
        except InvalidWorkflowError:
            self._undo_insert(fireworks)
            raise

    def _undo_insert(self, fireworks, wf=None):
        ids = [f["fw_id"] for f in fireworks]

        def undo():
            self.fireworks.delete_many({"fw_id": {"$in": ids}})
            if wf is not None:
                self.workflows.delete_one({"wf_id": wf["wf_id"]})

        self._guard(undo)

    def insert_launch(self, launch: Doc) -> None:
        self._guard(self._insert_once(self.launches, "launch_id", [mongo_shape.new_launch(launch)]))
        self._guard(lambda: mongo_shape.list_launch(self.fireworks, launch["fw_id"], launch["launch_id"]))

    def open_launch(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        launch: Doc,
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> tuple[Optional[Doc], Optional[int]]:
        # As the base class, with the launch id added to the firework's ``launches`` by the
        # claim itself: FireWorks' list at no extra round trip.
        with self.transaction():
            launch_id = self.next_ids("launch")
            changes = {**changes, "current_launch": launch_id}
            fw = self._claim(worker, changes, states, fw_id, not_before, listed=launch_id)
            if fw is None:
                return None, None
            doc = mongo_shape.new_launch({**launch, "launch_id": launch_id, "fw_id": fw["fw_id"]})
            self._guard(self._insert_once(self.launches, "launch_id", [doc]))
        return fw, launch_id

    @staticmethod
    def _insert_once(collection, key, docs):
        """An insert to run (and retry): a retry inserts only what is not there yet."""
        docs = list(docs)
        tried = []

        def insert():
            todo = docs
            if tried:
                there = {d[key] for d in collection.find({key: {"$in": [d[key] for d in docs]}}, {key: 1})}
                todo = [d for d in docs if d[key] not in there]
            tried.append(True)
            if todo:
                collection.insert_many([dict(d) for d in todo], ordered=True)

        return insert

    def _find(self, collection, default_key, query, fields, sort, limit, skip):
        query = self._resolved(query)

        def run():
            cursor = collection.find(query or {}, _projection(fields)).sort(_sort(sort, default_key))
            if self.query_seconds:
                cursor = cursor.max_time_ms(self._max_time_ms())
            if skip:
                cursor = cursor.skip(skip)
            if limit:
                cursor = cursor.limit(limit)
            return list(cursor)

        return self._guard(run)

    def find_fireworks(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        return self._find(self.fireworks, "fw_id", query, fields, sort, limit, skip)

    def _max_time_ms(self):
        return max(int(self.query_seconds * 1000), 1)

    def _resolved(self, query):
        """``query`` vetted, its WorkflowsOfFireworks replaced by ids (one grouping each)."""
        query = _vetted(query)
        return resolved(query, self.wf_ids_of) if query else query

    def wf_ids_of(self, fw_query: Query) -> list[int]:
        pipeline = [{"$match": _vetted(fw_query) or {}}, {"$group": {"_id": "$wf_id"}}]
        limits = {"maxTimeMS": self._max_time_ms()} if self.query_seconds else {}
        return sorted(
            r["_id"] for r in self._guard(lambda: list(self.fireworks.aggregate(pipeline, **limits)))
        )

    def _count(self, collection, query):
        vetted = self._resolved(query) or {}
        limits = {"maxTimeMS": self._max_time_ms()} if self.query_seconds else {}
        return self._guard(lambda: collection.count_documents(vetted, **limits))

    def count_fireworks(self, query: Query = None) -> int:
        return self._count(self.fireworks, query)

    def count_fireworks_by_state(self, query: Query = None) -> dict[str, int]:
        pipeline = [{"$match": _vetted(query) or {}}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        limits = {"maxTimeMS": self._max_time_ms()} if self.query_seconds else {}
        return {
            r["_id"]: r["n"] for r in self._guard(lambda: list(self.fireworks.aggregate(pipeline, **limits)))
        }

    def workflow_state_counts(self, wf_ids: Optional[Iterable[int]] = None) -> dict[int, dict[str, int]]:
        match = {} if wf_ids is None else {"wf_id": {"$in": list(wf_ids)}}
        pipeline = [
            {"$match": match},
            {"$group": {"_id": {"wf": "$wf_id", "state": "$state"}, "n": {"$sum": 1}}},
        ]
        out: dict[int, dict[str, int]] = {wf_id: {} for wf_id in wf_ids or ()}
        for r in self._guard(lambda: list(self.fireworks.aggregate(pipeline))):
            out.setdefault(r["_id"]["wf"], {})[r["_id"]["state"]] = r["n"]
        return out

    def find_workflows(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        query = mongo_shape.dated_query(query)
        return [
            mongo_shape.workflow_out(d)
            for d in self._find(self.workflows, "wf_id", query, fields, sort, limit, skip)
        ]

    def count_workflows(self, query: Query = None) -> int:
        return self._count(self.workflows, mongo_shape.dated_query(query))

    def find_launches(
        self, query: Query = None, fields: Fields = None, sort: Sort = None, limit: int = 0, skip: int = 0
    ) -> list[Doc]:
        found = self._find(self.launches, "launch_id", query, fields, sort, limit, skip)
        return [mongo_shape.launch_out(d) for d in found]

    def count_launches_by_period(
        self, width: int, since: Optional[str] = None, query: Query = None
    ) -> dict[str, dict[str, int]]:
        # $match, $group and $substr only: what mongomock implements as MongoDB does. A
        # string comparison matches strings alone (as the row-by-row read); "T" is put
        # between date and time here, after the grouping, for stamps stored with a space.
        ended = {"time_end": {"$gte": since} if since else {"$gt": ""}}
        vetted = self._resolved(query)
        pipeline = [
            {"$match": {"$and": [vetted, ended]} if vetted else ended},
            {"$group": {"_id": {"p": {"$substr": ["$time_end", 0, width]}, "s": "$state"}, "n": {"$sum": 1}}},
        ]
        limits = {"maxTimeMS": self._max_time_ms()} if self.query_seconds else {}
        counts: dict[str, dict[str, int]] = {}
        for r in self._guard(lambda: list(self.launches.aggregate(pipeline, **limits))):
            states = counts.setdefault(r["_id"]["p"].replace(" ", "T"), {})
            states[r["_id"]["s"]] = states.get(r["_id"]["s"], 0) + r["n"]
        return counts

    def update_fireworks(
        self, fw_ids: Iterable[int], changes: Mapping[str, Any], expect: Optional[Mapping[str, Any]] = None
    ) -> list[int]:
        if "spec" in changes:
            changes = {**changes, **index_fields(changes["spec"])}
        ids = list(fw_ids)
        if not ids:
            return []
        tried: list[bool] = []
        # a rerun or an archive moves the launch lists in the same write (mongo_shape)
        write = mongo_shape.archiving(changes) if mongo_shape.ARCHIVED_BELOW in changes else {"$set": changes}

        def update():
            # After a lost reply, the fireworks already holding the changes were ours.
            done = self._holding(ids, changes) if tried and expect else []
            tried.append(True)
            rest = [i for i in ids if i not in done]
            if not rest:
                return done
            cond = {"fw_id": {"$in": rest}}
            for field, value in (expect or {}).items():
                cond[field] = {"$in": list(value)} if isinstance(value, (list, tuple)) else value
            if len(rest) == 1:
                result = self.fireworks.update_one(cond, write)
                return done + (rest if result.matched_count else [])
            matched = [d["fw_id"] for d in self.fireworks.find(cond, {"fw_id": 1})]
            if matched:
                self.fireworks.update_many({**cond, "fw_id": {"$in": matched}}, write)
            return done + matched

        changed = self._guard(update)
        if changed:
            self._guard(lambda: self._follow(changed, changes))
        return changed

    def _follow(self, fw_ids, changes):
        """The FireWorks fields that follow a change (mongo_shape): links, launch lists."""
        if "children" in changes or "parents" in changes:
            mongo_shape.relink(self.workflows, fw_ids, changes)
        if changes.get(mongo_shape.TAKEN):  # a duplicate's: listed as FireWorks lists a thief's
            self.fireworks.update_many(
                {"fw_id": {"$in": fw_ids}}, {"$addToSet": {"launches": {"$each": changes[mongo_shape.TAKEN]}}}
            )
            mongo_shape.archive_below(self.fireworks, fw_ids)

    def _holding(self, ids, changes):
        return [
            d["fw_id"]
            for d in self.fireworks.find({"fw_id": {"$in": ids}}, _projection(["fw_id", *changes]))
            if _holds(d, changes)
        ]

    def release_children(self, fw_ids: Iterable[int], updated_on: str) -> list[int]:
        ids = list(fw_ids)
        if not ids:
            return []

        token = uuid.uuid4().hex  # the same for every retry of this release: it counts once

        def release():
            cond = {"fw_id": {"$in": ids}, "waiting_on": {"$gt": 0}, "release_tokens": {"$ne": token}}
            change = {
                "$inc": {"waiting_on": -1},
                "$push": {"release_tokens": {"$each": [token], "$slice": -20}},
            }
            if len(ids) == 1:  # a chain's child, or a join's last parent: one write
                done = self.fireworks.update_one(
                    {
                        "fw_id": ids[0],
                        "state": State.WAITING.value,
                        "waiting_on": 1,
                        "release_tokens": {"$ne": token},
                    },
                    {
                        "$set": {"state": State.READY.value, "waiting_on": 0, "updated_on": updated_on},
                        "$push": change["$push"],
                    },
                )
                if done.modified_count:
                    return ids
            self.fireworks.update_many(cond, change)
            cond = {"fw_id": {"$in": ids}, "state": State.WAITING.value, "waiting_on": 0}
            ready = [d["fw_id"] for d in self.fireworks.find(cond, {"fw_id": 1})]
            if ready:
                self.fireworks.update_many(
                    {**cond, "fw_id": {"$in": ready}},
                    {"$set": {"state": State.READY.value, "updated_on": updated_on}},
                )
            return ready

        return self._guard(release)

    def finish_firework(
        self, fw_id: int, launch_id: int, state: str, updated_on: str, launch_changes: Mapping[str, Any]
    ) -> bool:
        cond = {"fw_id": fw_id, "state": State.RUNNING.value, "current_launch": launch_id}

        def finished_before():  # a lost reply: the firework holds our state with our launch
            return self.fireworks.find_one({**cond, "state": state}, {"children": 1})

        doc = self._guard(
            lambda: self.fireworks.find_one_and_update(
                cond, {"$set": {"state": state, "updated_on": updated_on}}, {"children": 1}
            ),
            recover=finished_before,
        )
        if doc is None:
            return False
        self.update_launch(launch_id, launch_changes)
        if state == State.COMPLETED.value:
            self.release_children(doc.get("children") or [], updated_on)
        return True

    @staticmethod
    def _claimable(worker, states, fw_id=None, not_before=None):
        _vetted(worker.query)
        cond = {"state": {"$in": list(states)}, **linear(worker.mongo_filter())}  # regexes: RE2
        if fw_id is not None:
            cond["fw_id"] = fw_id
        if not_before is not None:
            cond["$or"] = [{"not_before": None}, {"not_before": {"$lte": not_before}}]
        return cond

    def count_claimable(
        self,
        worker: WorkerFilter,
        states: Sequence[str] = (State.READY.value,),
        limit: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> int:
        cond = self._claimable(worker, states, not_before=not_before)
        kwargs = {"limit": int(limit)} if limit else {}
        return self._guard(lambda: self.fireworks.count_documents(cond, **kwargs))

    def count_waiting_descendants(
        self,
        worker: WorkerFilter,
        fw_ids: Iterable[int],
        limit: Optional[int] = None,
        children_only: bool = False,
    ) -> int:
        """One indexed query per generation (fw_id ``$in``), stopping at ``limit``."""
        cond = self._claimable(worker, (State.WAITING.value,))

        def walk():
            seen, found = set(), 0
            frontier = self._children_of(list(fw_ids), {})
            while frontier:
                seen.update(frontier)
                kwargs = {"limit": int(limit) - found} if limit else {}
                found += self.fireworks.count_documents({**cond, "fw_id": {"$in": frontier}}, **kwargs)
                if children_only or (limit and found >= limit):
                    break
                frontier = [
                    c for c in self._children_of(frontier, {"state": State.WAITING.value}) if c not in seen
                ]
            return found

        return self._guard(walk)

    def _children_of(self, fw_ids, cond):
        children = {}  # a dict keeps the order and drops repeats
        for doc in self.fireworks.find({**cond, "fw_id": {"$in": fw_ids}}, {"children": 1}):
            children.update(dict.fromkeys(doc.get("children") or ()))
        return list(children)

    def activity_mark(self) -> Any:
        pipeline = [
            {"$match": {"state": {"$in": [State.RUNNING.value, State.RESERVED.value]}}},
            {"$group": {"_id": None, "n": {"$sum": 1}, "last": {"$max": "$current_launch"}}},
        ]
        found = self._guard(lambda: list(self.fireworks.aggregate(pipeline)))
        return (found[0]["n"], found[0]["last"]) if found else (0, None)

    def claim_firework(
        self,
        worker: WorkerFilter,
        changes: Mapping[str, Any],
        states: Sequence[str] = (State.READY.value,),
        fw_id: Optional[int] = None,
        not_before: Optional[str] = None,
    ) -> Optional[Doc]:
        return self._claim(worker, changes, states, fw_id, not_before)

    def _claim(self, worker, changes, states, fw_id, not_before, listed=None):
        """``claim_firework``; ``listed``: a launch id the claim adds to ``launches``."""
        cond = self._claimable(worker, states, fw_id, not_before)
        update: dict[str, Any] = {"$set": changes}
        if listed is not None:
            update["$addToSet"] = {"launches": listed}

        # No projection here: mongomock re-finds the updated document by _id only
        # when the projection keeps _id, and would otherwise update the wrong one.
        def claimed_before():  # a claim whose reply was lost: its launch id is unique
            if changes.get("current_launch") is None:
                return None
            return self.fireworks.find_one(
                {"current_launch": changes["current_launch"], "state": changes.get("state")}
            )

        doc = self._guard(
            lambda: self.fireworks.find_one_and_update(
                cond,
                update,
                sort=[("priority", DESCENDING), ("fw_id", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            ),
            recover=claimed_before,
        )
        if doc is not None:
            doc.pop("_id", None)
        return doc

    def update_launch(
        self, launch_id: int, changes: Mapping[str, Any], expect_state: Optional[str] = None
    ) -> bool:
        cond: dict[str, Any] = {"launch_id": launch_id}
        if expect_state is not None:
            cond["state"] = expect_state
        changes = mongo_shape.launch_in(changes)

        def applied_before():
            found = self.launches.find_one({"launch_id": launch_id}, _projection(changes))
            return True if expect_state is not None and _holds(found, changes) else None

        return self._guard(
            lambda: self.launches.update_one(cond, {"$set": changes}).matched_count == 1,
            recover=applied_before,
        )

    def update_workflow(self, wf_id: int, changes: Mapping[str, Any]) -> None:
        changes = mongo_shape.workflow_in(changes)
        self._guard(lambda: self.workflows.update_one({"wf_id": wf_id}, {"$set": changes}))

    def delete_workflow(self, wf_id: int) -> None:
        def delete():
            ids = [d["fw_id"] for d in self.fireworks.find({"wf_id": wf_id}, {"fw_id": 1})]
            self.workflows.delete_one({"wf_id": wf_id})
            self.launches.delete_many({"fw_id": {"$in": ids}})
            self.fireworks.delete_many({"wf_id": wf_id})

        self._guard(delete)

    def delete_fireworks(self, fw_ids: Iterable[int]) -> None:
        ids = list(fw_ids)

        def delete():
            self.launches.delete_many({"fw_id": {"$in": ids}})
            self.fireworks.delete_many({"fw_id": {"$in": ids}})
            mongo_shape.drop_nodes(self.workflows, ids)

        self._guard(delete)

    def delete_launches(self, launch_ids: Iterable[int]) -> None:
        ids = list(launch_ids)

        def delete():
            self.launches.delete_many({"launch_id": {"$in": ids}})
            mongo_shape.drop_launches(self.fireworks, ids)

        self._guard(delete)
