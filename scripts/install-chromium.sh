#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the dashboard's browser test
# (test/api/dashboard.test.ts), unless /usr/bin/chromium is already there. Needs root (apt-get).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium fonts-dejavu-core
