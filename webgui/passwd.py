"""Write a password file for ``lpad webgui --password-file``.

Usage: ``python -m webgui.passwd FILE`` asks for the password twice and
stores only its salted hash (werkzeug's scrypt), readable by you alone.
"""

import argparse
import getpass
import os
import sys

from werkzeug.security import generate_password_hash


def write_password_file(path, password):
    """Store the hash of ``password`` in ``path`` with mode 0600."""
    if not password:
        raise ValueError("the password is empty")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# starshell web GUI password hash (python -m webgui.passwd)\n")
        handle.write(generate_password_hash(password) + "\n")
    os.chmod(path, 0o600)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m webgui.passwd", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="where to write the hash, e.g. ~/.starshell/webgui.passwd")
    parser.add_argument("--stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New web GUI password: ")
        if getpass.getpass("Again: ") != password:
            print("the two passwords differ; nothing written", file=sys.stderr)
            return 1
    path = os.path.expanduser(args.file)
    try:
        write_password_file(path, password)
    except (OSError, ValueError) as exc:
        print(f"cannot write {path}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}; start the GUI with: lpad webgui --password-file {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
