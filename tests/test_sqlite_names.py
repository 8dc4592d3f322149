"""The name search's index on SQLite: the same answers as the scan, only sooner.

The index (FTS5 trigrams over the distinct names, refreshed in bulk) only
picks candidates; the exact matcher still decides. So every search must
return exactly what the scan returns: for mixed case, non-ASCII names, short
words, names added after the last refresh, renamed and deleted workflows;
an older (version 2) file must migrate on open; a SQLite without FTS5 must
still search, by the scan; and the real ``lpad webgui`` must answer from it.
"""

import os
import random
import re
import sqlite3

import pytest
import requests
from test_webgui_server import Gui
from user_commands import new_user

from launchpad import Firework, LaunchPad, Workflow
from launchpad.errors import InvalidQueryError
from launchpad.query import WorkflowsOfFireworks, matcher, name_search
from launchpad.stores import SQLiteStore, sqlite_names
from launchpad.stores.schema import SCHEMA_VERSION
from launchpad.stores.sqlite import compile_filter
from launchpad.tasks import PyTask

HERE = os.path.dirname(os.path.abspath(__file__))
# Letters whose case folding differs between engines: Kelvin sign, long s, sharp s, dotted I.
ALPHABET = "abcRELAXxyz019- " + "éÉſKßẞİΣσ"


def add_wf(lp, wf_name, names):
    fws = [Firework(PyTask(func="math.floor", args=[1]), fw_id=i + 1, name=n) for i, n in enumerate(names)]
    return lp.add_wf(Workflow(fws, {}, name=wf_name))


def random_name(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))


def gui_query(word, options="i"):
    """What ``/workflows?q=WORD`` asks the store (webgui/data.py), without the firework step."""
    return {"$regex": re.escape(word), "$options": options}


def answers(store, cond):
    """Fireworks and workflows a name condition finds (ids), and the count of workflows."""
    fws = [d["fw_id"] for d in store.find_fireworks({"name": cond}, fields=["fw_id"])]
    wf_query = {"$or": [{"name": cond}, {"wf_id": {"$in": [1, 2]}}]}
    wfs = [d["wf_id"] for d in store.find_workflows(wf_query, fields=["wf_id"], limit=25)]
    return fws, wfs, store.count_workflows(wf_query)


def scanned(store, cond):
    index = store.fireworks.names
    store.fireworks.names = store.workflows.names = None
    try:
        return answers(store, cond)
    finally:
        store.fireworks.names = store.workflows.names = index


def uses_index(store, cond):
    clauses, _, _ = compile_filter({"name": cond}, store.fireworks.columns, store.fireworks.names)
    return "names_fts" in clauses[0]


def check_words(store, words):
    for word in words:
        for options in ("i", ""):
            cond = gui_query(word, options)
            assert answers(store, cond) == scanned(store, cond), (word, options)


def test_search_finds_what_the_scan_finds(tmp_path):
    rng = random.Random(7)
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    names = []
    for _ in range(40):
        fw_names = [random_name(rng) for _ in range(4)]
        names += fw_names
        add_wf(lp, random_name(rng), fw_names)
    store.tuneup()
    assert sqlite_names.unindexed(store.conn()) == 0
    for w in range(10):  # past the watermark: found by the scan of the tail
        add_wf(lp, f"late relax {w} ſtatic", [f"late-{random_name(rng)}", "RELAX late"])
    for wf_id in (3, 5, 7):
        store.update_workflow(wf_id, {"name": f"renamed relax {wf_id}"})
    store.update_fireworks([10, 11], {"name": "renamed KELVIN"})
    for wf_id in (4, 6):
        store.delete_workflow(wf_id)
    words = ["relax", "RELAX", "late", "renamed", "kelvin", "ſtatic", "static", "ab", "x", "zzzz", "a.b"]
    for name in rng.sample(names, 30):
        start = rng.randrange(len(name))
        word = name[start : start + rng.randint(1, 5)]
        words += [word, word.upper(), word.swapcase()]
    check_words(store, words)
    assert uses_index(store, gui_query("relax")) and uses_index(store, gui_query("late"))
    assert not uses_index(store, gui_query("ab"))  # two letters: no trigram, the scan
    assert not uses_index(store, gui_query("ſtatic"))  # a non-ASCII word: the scan


def test_documents_inserted_below_the_watermark_are_found(tmp_path):
    """An import keeps FireWorks' ids, which may be lower than the indexed ones."""
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    add_wf(lp, "first", ["one", "two"])
    for w in range(5):
        add_wf(lp, f"second {w}", [f"three {w}"])
    store.delete_workflow(1)
    store.tuneup()
    fw = {"state": "READY", "priority": 0, "waiting_on": 0, "spec": {}}
    store.insert_workflow(
        {"wf_id": 1, "name": "imported wf", "nodes": [1, 2]},
        [
            {**fw, "fw_id": 1, "wf_id": 1, "name": "imported relax"},
            {**fw, "fw_id": 2, "wf_id": 1, "name": "x"},
        ],
    )
    assert answers(store, gui_query("imported")) == ([1], [1, 2], 2)
    check_words(store, ["imported", "relax", "three", "second", "one"])
    assert sqlite_names.unindexed(store.conn()) > 0  # the watermarks moved back to id 0
    store.tuneup()
    assert uses_index(store, gui_query("imported"))
    assert answers(store, gui_query("imported")) == ([1], [1, 2], 2)


def test_a_store_mostly_unindexed_is_scanned(tmp_path):
    """Under REFRESH_TAIL new ids nothing is refreshed; while they outnumber the
    indexed names, the scan of the tail would be most of the work: scan at once."""
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    add_wf(lp, "first relax", ["relax-1"])
    assert not uses_index(store, gui_query("relax"))
    store.tuneup()
    assert uses_index(store, gui_query("relax"))
    for w in range(2):
        add_wf(lp, f"more relax {w}", ["relax-2"])
    assert not uses_index(store, gui_query("relax"))
    check_words(store, ["relax", "more"])


def test_a_search_indexes_a_long_tail_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_names, "REFRESH_TAIL", 5)
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    for w in range(4):
        add_wf(lp, f"wf {w}", [f"relax-{w}-{i}" for i in range(3)])
    assert sqlite_names.unindexed(store.conn()) == 16
    check_words(store, ["relax-2", "wf 3", "nothing"])
    assert sqlite_names.unindexed(store.conn()) == 0
    assert answers(store, gui_query("relax-2"))[0] == [7, 8, 9]


def test_common_words_go_to_the_scan(tmp_path, monkeypatch):
    """A word in most names finds a page sooner by the scan, which stops at 25."""
    monkeypatch.setattr(sqlite_names, "COMMON_MIN", 3)
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    add_wf(lp, "other", [f"relax-{i}" for i in range(10)] + ["phonon"])
    store.tuneup()
    assert not uses_index(store, gui_query("relax"))
    assert uses_index(store, gui_query("phonon"))
    check_words(store, ["relax", "phonon"])


def test_reset_empties_the_index(tmp_path):
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    add_wf(lp, "first", ["relax"])
    store.tuneup()
    store.reset()
    add_wf(lp, "second", ["static"])
    store.tuneup()
    check_words(store, ["relax", "static", "first", "second"])
    assert answers(store, gui_query("static"))[1] == [1]


def test_full_tuneup_forgets_names_nobody_holds(tmp_path):
    store = SQLiteStore(tmp_path / "launchpad.sqlite")
    lp = LaunchPad(store)
    add_wf(lp, "gone", ["relax-gone"])
    add_wf(lp, "kept", ["relax-kept"])
    store.delete_workflow(1)
    assert "name index rebuilt" in store.tuneup(full=True)
    conn = store.conn()
    assert sorted(r[0] for r in conn.execute("SELECT name FROM names")) == ["kept", "relax-kept"]
    check_words(store, ["relax", "gone", "kept"])


def test_a_version_2_file_migrates_on_open_and_searches(tmp_path):
    """tests/data/store_v2.sql is a store written by starshell before the index."""
    user = new_user(tmp_path)
    path = user.home / "launchpad.sqlite"  # the default store of this user
    conn = sqlite3.connect(path)
    with open(os.path.join(HERE, "data", "store_v2.sql"), encoding="utf-8") as fh:
        conn.executescript(fh.read())
    conn.close()
    listed = user.run("lpad", "get_fws", "-d", "ids", timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "9" in listed.stdout
    store = SQLiteStore(path)
    conn = store.conn()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "fireworks_name_wf" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    words = ["relax", "RÉLAX", "ſtatic", "static", "Ünïcode", "σισυφος", "ΣΙΣ", "nscf"]
    assert not uses_index(store, gui_query("relax"))  # nothing indexed yet: the scan
    check_words(store, words)
    assert answers(store, gui_query("relax"))[0] == [1, 2, 8]  # "RÉLAX-3": É is no E
    store.tuneup()
    assert conn.execute("SELECT count(*) FROM names").fetchone()[0] == 12  # 9 fireworks, 3 workflows
    assert uses_index(store, gui_query("relax"))
    check_words(store, words)


def without_fts5(path):
    """Make the file's index table name a module this SQLite lacks, as a SQLite built
    without FTS5 sees a file made where it had it."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'fts5(', 'nofts5(') WHERE name = 'names_fts'")
    conn.commit()
    conn.close()


def test_without_fts5_searches_scan(tmp_path, monkeypatch):
    path = tmp_path / "launchpad.sqlite"
    lp = LaunchPad(SQLiteStore(path))
    add_wf(lp, "relax wf", ["relax-1", "RÉLAX", "static"])
    lp.store.close()
    without_fts5(path)
    store = SQLiteStore(path)
    lp = LaunchPad(store)
    add_wf(lp, "later", ["relax-later"])
    assert not uses_index(store, gui_query("relax"))
    assert answers(store, gui_query("relax"))[0] == [1, 4]
    assert any("no FTS5" in step for step in store.tuneup())
    store.reset()
    # A new file where this SQLite has no FTS5: made without the index table.
    monkeypatch.setattr(
        "launchpad.stores.schema.NAMES_FTS_DDL", "CREATE VIRTUAL TABLE names_fts USING nofts5(name)"
    )
    other = SQLiteStore(tmp_path / "other.sqlite")
    add_wf(LaunchPad(other), "relax", ["relax-1"])
    assert not uses_index(other, gui_query("relax"))
    assert answers(other, gui_query("relax"))[:2] == ([1], [1])


@pytest.mark.parametrize("refresh", [True, False], ids=["tuned-up", "tail"])
def test_lpad_webgui_searches_through_the_index(tmp_path, refresh):
    """The real server: names from ``lpad add`` in another process, after and before tuneup."""
    gui = Gui(tmp_path, workflows=3)  # 3 workflows with a firework "relax aaaa... i"
    try:
        (tmp_path / "user").mkdir()
        user = new_user(tmp_path / "user")
        env = {"STARSHELL_HOME": str(gui.home)}
        spec = tmp_path / "wf.yaml"
        spec.write_text(
            "name: Phonon Ünïcode\nfws:\n- fw_id: 1\n  name: PHONON-run\n"
            "  spec: {_tasks: [{_fw_name: ScriptTask, script: 'true'}]}\n"
        )
        if refresh:
            assert user.run("lpad", "admin", "tuneup", extra_env=env).returncode == 0
        assert user.run("lpad", "add", str(spec), extra_env=env).returncode == 0
        found = {}
        for word in ("relax", "phonon", "ünï", "zzz", "ph"):
            reply = requests.get(f"{gui.url}/api/workflows", params={"q": word}, timeout=30)
            assert reply.status_code == 200, reply.text
            found[word] = sorted(row["name"] for row in reply.json()["items"])
        page = requests.get(f"{gui.url}/workflows", params={"q": "PHONON"}, timeout=30)
        assert page.status_code == 200 and "Phonon Ünïcode" in page.text
    finally:
        gui.stop()
    assert found["relax"] == [f"{'b' * 40} {i}" for i in range(3)]
    assert found["phonon"] == found["ünï"] == found["ph"] == ["Phonon Ünïcode"]
    assert found["zzz"] == []
    conn = sqlite3.connect(gui.home / "launchpad.sqlite")
    mark = conn.execute("SELECT last FROM counters WHERE name = 'names_fts'").fetchone()
    assert mark == ((6,) if refresh else None)  # tuneup indexed the 6 names of the 3 workflows


def reference_page(store, word, sort_key, limit, skip):
    """The workflows ``/workflows?q=word`` must list, worked out in Python (RE2 through
    mongomock's matcher) from every document: the page's ids and the total."""
    hit = matcher({"name": gui_query(word)})
    wfs = store.find_workflows(None, fields=["wf_id", "name"])
    found = {d["wf_id"] for d in wfs if hit(d)}
    found |= {d["wf_id"] for d in store.find_fireworks(None, fields=["wf_id", "name"]) if hit(d)}
    names = {d["wf_id"]: d["name"] for d in wfs}
    if sort_key == "name":
        ordered = sorted(found, key=lambda i: (names[i], -i))
    else:
        ordered = sorted(found, reverse=True)
    return ordered[skip : skip + limit], len(found)


def gui_page(lp, word, sort_key, limit, skip):
    """What the web GUI asks: one query for the page, one count, no ids listed in Python."""
    query = name_search(word)
    sort = [("name", 1), ("wf_id", -1)] if sort_key == "name" else [("wf_id", -1)]
    docs = lp.get_wf_summaries(query, sort=sort, limit=limit, skip=skip)
    return [d["wf_id"] for d in docs], lp.count_wfs(query)


COMMON_WORDS = ["relax", "RELAX", "static", "ſtatic", "kelvin", "zzz", "la"]


def build_common(lp, rng):
    """Workflows whose names often hold ``relax``: mixed case, non-ASCII letters (the
    Kelvin sign and long s, which RE2 folds and LIKE does not) and unrelated names."""
    words = ["relax", "RELAX", "Relax", "static", "ſtatic", "phonon", "\u212aELVIN", "kelvin", "é"]
    for w in range(60):
        fw_names = [f"{rng.choice(words)}-{w}-{i}" for i in range(rng.randint(1, 4))]
        add_wf(lp, f"wf {w} {rng.choice(words + ['plain'] * 6)}", fw_names)


@pytest.mark.parametrize("indexed", [True, False], ids=["index", "scan"])
def test_common_word_page_and_count_equal_the_reference(lp, indexed, monkeypatch):
    """The page of 25 and the total of a common word (the SQLite store checks a page
    workflow by workflow, counts with one subquery) equal a count in Python, on both
    stores, for every sort and page."""
    monkeypatch.setattr(sqlite_names, "COMMON_MIN", 3)
    build_common(lp, random.Random(3))
    if isinstance(lp.store, SQLiteStore):
        lp.store.tuneup()
        if not indexed:
            lp.store.fireworks.names = lp.store.workflows.names = None
    elif not indexed:
        pytest.skip("MongoDB has no name index to switch off")
    for word in COMMON_WORDS:
        for sort_key in ("newest", "name"):
            for skip in (0, 25, 50):
                expected = reference_page(lp.store, word, sort_key, 25, skip)
                assert gui_page(lp, word, sort_key, 25, skip) == expected, (word, sort_key, skip)
    if isinstance(lp.store, SQLiteStore) and indexed:
        assert lp.store.fireworks.names.common(gui_query("relax"))


def test_a_common_word_page_reads_workflow_by_workflow(sqlite_lp, monkeypatch):
    """The plan: a page of a common word checks the fireworks of each workflow (EXISTS)
    and stops at the page; the count lists the fireworks' workflows once (IN)."""
    monkeypatch.setattr(sqlite_names, "COMMON_MIN", 3)
    store = sqlite_lp.store
    build_common(sqlite_lp, random.Random(5))
    store.tuneup()
    statements = []
    store.conn().set_trace_callback(statements.append)
    gui_page(sqlite_lp, "relax", "newest", 25, 0)
    gui_page(sqlite_lp, "-7-", "newest", 25, 0)
    store.conn().set_trace_callback(None)
    pages = [s for s in statements if s.startswith("SELECT wf_id") or "FROM workflows WHERE" in s]
    counts = [s for s in statements if s.startswith("SELECT COUNT(*) FROM workflows")]
    assert "EXISTS (SELECT 1 FROM fireworks f WHERE f.wf_id = workflows.wf_id" in pages[0]
    assert all("EXISTS" not in s and "IN (SELECT wf_id FROM fireworks" in s for s in counts)
    assert "names_fts" in counts[1] and "EXISTS" not in pages[-1]  # a rare word: the index
    assert not any("json_each" in s for s in statements)  # no ids passed from Python


def test_a_fireworks_query_sql_cannot_answer_is_resolved_to_ids(lp):
    """A WorkflowsOfFireworks whose firework query SQL does not answer ($nor: checked
    in Python) still finds the right workflows, on both stores."""
    add_wf(lp, "one", ["a", "b"])
    add_wf(lp, "two", ["c"])
    query = {"wf_id": {"$in": WorkflowsOfFireworks({"$nor": [{"name": "a"}, {"name": "b"}]})}}
    assert [d["wf_id"] for d in lp.get_wf_summaries(query)] == [2] and lp.count_wfs(query) == 1
    either = {"$or": [{"name": "one"}, query]}
    assert sorted(d["wf_id"] for d in lp.get_wf_summaries(either)) == [1, 2] and lp.count_wfs(either) == 2
    with pytest.raises(InvalidQueryError):
        WorkflowsOfFireworks({"$where": "1"})
