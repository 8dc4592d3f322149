"""Run a module with cProfile in every thread, the stats of all threads merged into one file.

Times are each thread's CPU time, not wall time: on a busy machine wall time
mostly measures waiting for the GIL and for a core.

``python -m cProfile`` sees only the main thread; a threaded server such as
``lpad gateway`` does its work in other threads. Used by ``bench/gateway.py
--profile``:

    python bench/thread_profile.py OUT.prof -m launchpad.cli gateway ...
    python -c "import pstats; pstats.Stats('OUT.prof').sort_stats('tottime').print_stats(30)"
"""

import cProfile
import os
import pstats
import runpy
import sys
import tempfile
import threading
import time

_profiles = []
_lock = threading.Lock()


def _profiled_run(run):
    def wrapper(self):
        profile = cProfile.Profile(time.thread_time)
        with _lock:
            _profiles.append(profile)
        profile.enable()
        try:
            run(self)
        finally:
            profile.disable()

    return wrapper


def _save(out):
    stats = None
    for profile in _profiles:
        with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as fh:
            name = fh.name
        profile.dump_stats(name)
        stats = pstats.Stats(name) if stats is None else stats.add(name)
        os.unlink(name)
    if stats is not None:
        stats.dump_stats(out)


def main():
    out, flag, module, *args = sys.argv[1:]
    if flag != "-m":
        raise SystemExit(__doc__)
    # _bootstrap_inner, not run: servers subclass Thread and override run.
    threading.Thread._bootstrap_inner = _profiled_run(threading.Thread._bootstrap_inner)
    sys.argv = [module, *args]
    main_profile = cProfile.Profile(time.thread_time)
    _profiles.append(main_profile)
    main_profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        main_profile.disable()
        _save(out)


if __name__ == "__main__":
    main()
