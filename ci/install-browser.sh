#!/bin/sh
# Install Debian's chromium for the browser tests (tests/test_webgui_browser.py).
# Playwright drives it through executable_path; never run `playwright install`,
# which downloads a browser of its own and fails on offline machines.
set -eu
if [ -x /usr/bin/chromium ]; then
    /usr/bin/chromium --version
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends chromium; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium
fi
/usr/bin/chromium --version
