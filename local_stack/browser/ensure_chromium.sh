#!/usr/bin/env bash
# Makes sure headless Chromium and its WebDriver are installed for the browser tests
# (python_tests/browser/). Idempotent: a no-op when both are there.
#
#   local_stack/browser/ensure_chromium.sh          # install Debian's chromium + chromium-driver if missing
#
# Uses Debian's packages (apt-get, as root or through sudo) and never downloads a browser build
# of its own. Elsewhere (macOS, no apt) install Chromium and chromedriver yourself and point
# CHROMIUM_BIN / CHROMEDRIVER_BIN at them, or skip the browser tests with
# LAKEHOUSE_BROWSER_TESTS=0. On failure it prints one line naming the cause (and the apt log).
set -euo pipefail

CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
CHROMEDRIVER_BIN="${CHROMEDRIVER_BIN:-/usr/bin/chromedriver}"
PACKAGES=(chromium chromium-driver fonts-liberation)

say() { printf '[browser] %s\n' "$*"; }
die() { printf '[browser] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -x "$CHROMIUM_BIN" ] && [ -x "$CHROMEDRIVER_BIN" ]; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 \
  || die "Chromium not found at $CHROMIUM_BIN (or chromedriver at $CHROMEDRIVER_BIN) and apt-get is not available: install both and set CHROMIUM_BIN / CHROMEDRIVER_BIN, or run with LAKEHOUSE_BROWSER_TESTS=0"
if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  AS_ROOT=(sudo -n)
else
  die "Chromium is missing and installing it needs root: run 'sudo apt-get install -y --no-install-recommends ${PACKAGES[*]}' once, or run with LAKEHOUSE_BROWSER_TESTS=0"
fi

log="$(mktemp -t ensure-chromium.XXXXXX.log)"
start=$SECONDS
say "installing ${PACKAGES[*]} from Debian's packages (once, ~1-2 min; log: $log)"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only when apt knows no candidate.
if ! apt-cache policy chromium-driver 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  "${AS_ROOT[@]}" apt-get update -qq >>"$log" 2>&1 \
    || die "apt-get update failed (see $log): check that Debian's package mirror is reachable"
fi
"${AS_ROOT[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >>"$log" 2>&1 \
  || die "apt-get install ${PACKAGES[*]} failed (see $log)"
[ -x "$CHROMIUM_BIN" ] && [ -x "$CHROMEDRIVER_BIN" ] \
  || die "installed ${PACKAGES[*]} but $CHROMIUM_BIN or $CHROMEDRIVER_BIN is still missing (see $log)"
say "$("$CHROMIUM_BIN" --version 2>/dev/null | head -1) ready in $((SECONDS - start)) s"
rm -f "$log"
