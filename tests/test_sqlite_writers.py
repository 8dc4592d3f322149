"""Writing threads of one process on one SQLite file (a gateway's, a web GUI's).

SQLite lets a second writer sleep and poll (1, 2, 5 ... 100 ms between tries)
while the first one holds the file; threads of one process queue on a lock
instead, so the next one starts as soon as the file is free.
"""

import threading
import time

from launchpad.stores import SQLiteStore


def test_a_second_writing_thread_waits_on_a_lock_not_in_sqlite(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    other = SQLiteStore(tmp_path / "s.sqlite")  # another LaunchPad on the same file
    statements, lock = [], threading.Lock()

    def traced(name, a_store):
        conn = a_store.conn()

        def trace(sql):
            with lock:
                statements.append((name, sql.split()[0]))

        conn.set_trace_callback(trace)

    first_in = threading.Event()

    def first():
        traced("first", store)
        with store.transaction():
            first_in.set()
            time.sleep(0.3)

    def second():
        traced("second", other)
        first_in.wait(10)
        with other.transaction():
            pass

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    order = [s for s in statements if s[1] in ("BEGIN", "COMMIT")]
    # the second thread asks SQLite for the file only once the first one has let go of it
    assert order == [("first", "BEGIN"), ("first", "COMMIT"), ("second", "BEGIN"), ("second", "COMMIT")]
