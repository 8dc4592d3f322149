#!/usr/bin/env bash
# sshd-up.sh - start a throwaway OpenSSH server on 127.0.0.1 for the qlaunch -rh tests.
#
# Installs Debian's openssh-server if /usr/sbin/sshd is missing (as root), then, in DIR
# (default: a new temp directory), generates a host key and a user key pair, writes an
# sshd_config of its own (127.0.0.1 only, a free port, public-key login for the current
# user through DIR/authorized_keys: ~/.ssh is never touched, no password login) and
# starts sshd with it. The system's sshd and its configuration are left alone.
#
# Writes DIR/env (SSHD_DIR, SSHD_PORT, SSHD_USER, SSHD_KEY, SSHD_KNOWN_HOSTS) and a
# DIR/known_hosts naming the host key for [127.0.0.1]:PORT and [localhost]:PORT, and
# prints DIR as its last line. Stop it with: bash ci/sshd-down.sh DIR
#
# Usage: sshd-up.sh [--dir DIR] [--port PORT]
set -euo pipefail

DIR=""
PORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "sshd-up: unknown argument: $1" >&2; exit 2 ;;
  esac
done

SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "sshd-up: $SSHD is missing; as root: apt-get install -y openssh-server" >&2
    exit 1
  fi
  # Only the package: this script never starts or configures the system's ssh service.
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server >/dev/null; }
fi

[ -n "$DIR" ] || DIR="$(mktemp -d /tmp/starshell-sshd.XXXXXX)"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
chmod 700 "$DIR"
[ -n "$PORT" ] || PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
USER_NAME="$(id -un)"
# sshd's privilege separation directory (Debian's service creates it at boot).
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi

rm -f "$DIR/host_ed25519_key" "$DIR/host_ed25519_key.pub" "$DIR/id_ed25519" "$DIR/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -C starshell-test-host -f "$DIR/host_ed25519_key"
ssh-keygen -q -t ed25519 -N '' -C starshell-test-user -f "$DIR/id_ed25519"
cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
chmod 600 "$DIR/authorized_keys"

cat > "$DIR/sshd_config" <<CONF
# Written by ci/sshd-up.sh: a test server, reachable from this machine only.
ListenAddress 127.0.0.1
Port $PORT
HostKey $DIR/host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
AllowUsers $USER_NAME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF

"$SSHD" -t -f "$DIR/sshd_config"
"$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log"

for _ in $(seq 50); do
  if [ -s "$DIR/sshd.pid" ] && python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ ! -s "$DIR/sshd.pid" ]; then
  echo "sshd-up: sshd did not start on 127.0.0.1:$PORT; see $DIR/sshd.log" >&2
  cat "$DIR/sshd.log" >&2 || true
  exit 1
fi

HOSTKEY="$(cut -d' ' -f1,2 "$DIR/host_ed25519_key.pub")"
printf '[127.0.0.1]:%s %s\n[localhost]:%s %s\n' "$PORT" "$HOSTKEY" "$PORT" "$HOSTKEY" > "$DIR/known_hosts"
cat > "$DIR/env" <<ENV
SSHD_DIR=$DIR
SSHD_PORT=$PORT
SSHD_USER=$USER_NAME
SSHD_KEY=$DIR/id_ed25519
SSHD_KNOWN_HOSTS=$DIR/known_hosts
ENV
echo "sshd-up: sshd $(cat "$DIR/sshd.pid") on 127.0.0.1:$PORT, user $USER_NAME, key $DIR/id_ed25519" >&2
echo "$DIR"
