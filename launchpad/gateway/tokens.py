"""The gateway's token file: who may call it.

One token a line (a label may follow it after a space; ``#`` starts a
comment), so each worker or user gets its own and losing one means removing
one line. The gateway re-reads the file whenever it changes, so a removed
token is refused from the next request on, without a restart. Tokens are
compared in constant time and never logged.
"""

import hmac
import os
import secrets
import stat
import threading

from ..errors import ConfigError, GatewayAuthError


def read_tokens(path):
    """The tokens in ``path`` (first word of each non-comment line)."""
    tokens = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            words = line.split("#", 1)[0].split()
            if words:
                tokens.append(words[0])
    return tokens


def create_token_file(path):
    """Write a new token file readable by its owner only; False when it already exists."""
    path = os.path.abspath(os.path.expanduser(path))
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# starshell gateway tokens: one a line, a label may follow; remove a line to revoke it\n")
        fh.write(f"{secrets.token_urlsafe(32)} first\n")
    return True


def check_private(path):
    """Refuse a token file that other users can read: anyone holding a token runs fireworks."""
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} can be read by other users, who could then use the gateway; run: chmod 600 {path}"
        )


def client_token(path):
    """The token a client presents: the first one in its token file."""
    path = os.path.expanduser(str(path))
    try:
        tokens = read_tokens(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the gateway token file {path}: {exc.strerror}; copy "
            "the gateway's token file (or one line of it) there"
        ) from None
    if not tokens:
        raise ConfigError(f"the gateway token file {path} holds no token")
    return tokens[0]


class TokenFile:
    """The tokens the gateway accepts, re-read when the file changes."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self._lock = threading.Lock()
        self._seen = None
        self._tokens = []
        self.reload()

    def reload(self):
        """Read the file again if it changed (size, time or inode); gone means no token."""
        try:
            st = os.stat(self.path)
            seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen == self._seen:
                return
            try:
                tokens = read_tokens(self.path) if seen else []
            except OSError:
                tokens = []
            self._tokens = [t.encode() for t in tokens]
            self._seen = seen

    def __len__(self):
        return len(self._tokens)

    def check(self, presented):
        """Raise GatewayAuthError unless ``presented`` is a listed token."""
        self.reload()
        given = (presented or "").encode()
        ok = False
        for token in self._tokens:  # no early exit: the time says nothing about which
            ok |= hmac.compare_digest(given, token)
        if not ok or not given:
            raise GatewayAuthError(
                "the gateway refused the token (missing, wrong or revoked); "
                "ask for a token listed in the gateway's token file"
            )
