#!/usr/bin/env bash
# Debian packages the project needs beyond Python: Chromium for the browser tests (driven by Playwright
# with executable_path, so Playwright never downloads a browser of its own), a CJK font so the pages render
# Chinese and a colour emoji font so ✅/❌/📝 in answers render (the README's console screenshots are taken
# by the browser tests), curl for readiness checks;
# for the scaled topology (`make run-cluster`, scripts/cluster/): Redis (Rasa's lock store, the console's
# cross-gateway events, shared rate limits), HAProxy (the load balancer) and the PostgreSQL 15 server.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || need+=(postgresql-15)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
# policy-rc.d 101: the packages' own system services are not started (the project starts its own copies
# under var/, on loopback, with throw-away data).
policy=/usr/sbin/policy-rc.d
added_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod +x "$policy" && added_policy=1
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ -n "$added_policy" ] && $SUDO rm -f "$policy"
exit 0
