#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work on these machines).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    exit 0
fi
echo "browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium' (they are skipped until then)" >&2
