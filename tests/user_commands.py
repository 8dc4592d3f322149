"""Running ``lpad``, ``rlaunch`` and ``qlaunch`` the way a user does: each in its
own process, with a fresh ``$STARSHELL_HOME`` and a scratch working directory,
so nothing of the test's interpreter (imports, registries, cwd) can hide a bug."""

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODULES = {"lpad": "launchpad.cli", "rlaunch": "rocket.cli", "qlaunch": "queue_adapters.cli"}


@dataclass
class User:
    home: Path
    work: Path
    env: dict

    def run(self, command, *argv, timeout=120, extra_env=None, stdin=None):
        """``command`` to its end; ``stdin`` is what the user types (none: the
        command reads an empty input)."""
        return subprocess.run(
            _command_line(command, argv),
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=stdin,
            env={**self.env, **(extra_env or {})},
        )

    def start(self, command, *argv):
        """``command`` in the background, its output (stdout and stderr) on ``.stdout``."""
        return subprocess.Popen(
            _command_line(command, argv),
            cwd=self.work,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )


def _command_line(command, argv):
    """The installed console script if there is one, else ``python -m``."""
    script = os.path.join(sysconfig.get_path("scripts"), command)
    exe = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", _MODULES[command]]
    return exe + [str(a) for a in argv]


def new_user(tmp_path):
    """A user with nothing configured: no launchpad, worker or qadapter file anywhere."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL_")}
    env.update(
        STARSHELL_HOME=str(home),
        PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
    )
    return User(home=home, work=work, env=env)
