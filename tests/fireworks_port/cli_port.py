"""What the ports of FireWorks' scripts tests share: the real commands, run as a user."""

from tests.user_commands import new_user


def reports_version(tmp_path, command, arg):
    """``command -v``: exit 0, starshell's version first (FireWorks: "lpad v2.1.4"), no stderr."""
    done = new_user(tmp_path).run(command, arg)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.startswith("starshell ")
