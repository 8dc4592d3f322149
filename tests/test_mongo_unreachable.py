"""An unreachable MongoDB: said at once on stderr, and an error in seconds, not a minute.

Real ``lpad`` processes against a closed port on this machine (no server needed).
"""

import subprocess
import sys
import time

import pytest
from user_commands import new_user


def lpad_against_a_closed_port(tmp_path, extra=""):
    """Run ``lpad get_wflows``; returns (exit code, [(seconds after start, stderr line)])."""
    user = new_user(tmp_path)
    (user.work / "my_launchpad.yaml").write_text(f"host: 127.0.0.1\nport: 9\nname: x\n{extra}")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "launchpad.cli", "get_wflows"],
        cwd=user.work,
        env=user.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = [(time.monotonic() - started, line.strip()) for line in proc.stderr]
    return proc.wait(timeout=60), lines


@pytest.mark.slow
def test_an_unreachable_server_is_announced_at_once_and_fails_in_seconds(tmp_path):
    code, lines = lpad_against_a_closed_port(tmp_path)
    assert code == 5, lines
    (said_at, said), (failed_at, error) = lines
    assert said == (
        "no answer from mongodb://127.0.0.1:9/x within 1 s; trying again for up "
        "to 10 s (serverSelectionTimeoutMS 3000 per try)"
    )
    assert said_at < 6  # python's start-up, then one second
    assert error == "error: cannot reach mongodb://127.0.0.1:9/x after 3 tries: ServerSelectionTimeoutError"
    assert failed_at < 25  # it was 68 s


def test_the_users_server_selection_timeout_is_honoured(tmp_path):
    code, lines = lpad_against_a_closed_port(
        tmp_path, "mongoclient_kwargs: {serverSelectionTimeoutMS: 300}\n"
    )
    assert code == 5, lines
    assert "(serverSelectionTimeoutMS 300 per try)" in lines[0][1]
    assert "up to 2 s" in lines[0][1]
