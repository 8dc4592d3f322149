"""``lpad webgui`` run as a user runs it: its own process, an environment with
no STARSHELL_* variables but the given home, a free port read from its banner.

Shared by tests/test_webgui_server.py and bench/webgui_latency.py.
"""

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def lpad_command():
    """The installed ``lpad``, or the same entry point through this Python."""
    exe = shutil.which("lpad")
    return (
        [exe]
        if exe
        else [sys.executable, "-c", "import sys; from launchpad.cli import main; sys.exit(main())"]
    )


def user_env(home):
    """This environment without STARSHELL_* settings, with ``home`` as STARSHELL_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL")}
    env.update(STARSHELL_HOME=str(home), PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    return env


class WebguiProcess:
    """One ``lpad webgui`` process on a free port (``port``, ``url``)."""

    def __init__(self, home, cwd, *options):
        self.process = subprocess.Popen(
            lpad_command() + ["webgui", "--port", "0", *options],
            cwd=cwd,
            env=user_env(home),
            stderr=subprocess.PIPE,
            text=True,
        )
        banner = ""
        for _ in range(5):  # warnings may come first
            banner += self.process.stderr.readline()
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
            if found or self.process.poll() is not None:
                break
        if not found:
            self.process.terminate()
            rest = self.process.communicate(timeout=30)[1]
            raise RuntimeError(f"lpad webgui did not start: {banner}{rest}")
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
