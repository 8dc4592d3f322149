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
        """The installed console script if there is one, else ``python -m``; ``stdin``
        is what the user types (none: the command reads an empty input)."""
        script = os.path.join(sysconfig.get_path("scripts"), command)
        exe = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", _MODULES[command]]
        return subprocess.run(
            exe + [str(a) for a in argv],
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=stdin,
            env={**self.env, **(extra_env or {})},
        )


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
