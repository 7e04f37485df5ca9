#!/usr/bin/env bash
# Start every service of the assistant in the foreground; Ctrl-C (or SIGTERM) stops them all.
#   action server  127.0.0.1:$ACTION_PORT  (actions/, calls policies/)
#   Rasa server    127.0.0.1:$RASA_PORT    (REST channel + HTTP API behind $RASA_TOKEN)
#   gateway        $BOT_HOST:$BOT_PORT     (web chat, WeChat, Telegram, staff console) — when bot/ has one
set -euo pipefail
cd "$(dirname "$0")/.."

export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
MODELS_DIR=${MODELS_DIR:-models}
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
BOT_HOST=${BOT_HOST:-127.0.0.1}
BOT_PORT=${BOT_PORT:-8080}
LOG_DIR=${LOG_DIR:-var/log}
# Rasa's HTTP API can rewrite any conversation: it always needs a token. Without one set, make a fresh one per run.
RASA_TOKEN=${RASA_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}
export RASA_TOKEN RASA_URL=${RASA_URL:-http://127.0.0.1:$RASA_PORT}
# read by endpoints.yml: several copies of the assistant (tests, benchmarks) can run side by side
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export RASA_TRACKER_DB=${RASA_TRACKER_DB:-var/rasa/tracker.db}
export BOT_HOST BOT_PORT
mkdir -p var/rasa "$(dirname "$RASA_TRACKER_DB")" "$LOG_DIR"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "stopping services ..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
# Ctrl-C / SIGTERM: stop everything and end quietly; any other exit (a service died, start-up failed) stops the rest too.
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_for() {  # name url seconds
  local name=$1 url=$2 seconds=$3
  for _ in $(seq 1 "$seconds"); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then echo "ready: $name  $url"; return 0; fi
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a service exited early; see $LOG_DIR/" >&2; return 1; }; done
    sleep 1
  done
  echo "$name did not become ready in ${seconds}s; see $LOG_DIR/" >&2
  return 1
}

SANIC_HOST=127.0.0.1 .venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" >"$LOG_DIR/actions.log" 2>&1 &
pids+=($!)
.venv/bin/rasa run --model "$MODELS_DIR/assistant.tar.gz" --enable-api --auth-token "$RASA_TOKEN" \
  --interface 127.0.0.1 --port "$RASA_PORT" --endpoints endpoints.yml --credentials credentials.yml \
  >"$LOG_DIR/rasa.log" 2>&1 &
pids+=($!)
if [ -f bot/__main__.py ]; then
  .venv/bin/python -m bot >"$LOG_DIR/gateway.log" 2>&1 &
  pids+=($!)
fi

wait_for "action server" "http://127.0.0.1:$ACTION_PORT/health" 120
wait_for "Rasa server  " "http://127.0.0.1:$RASA_PORT/status?token=$RASA_TOKEN" 180
if [ -f bot/__main__.py ]; then
  wait_for "gateway      " "http://$BOT_HOST:$BOT_PORT/healthz" 60
  echo "web chat:      http://$BOT_HOST:$BOT_PORT/"
fi
echo "all services up (logs in $LOG_DIR/). Chat in a terminal with 'make shell'. Ctrl-C stops everything."
# Stay in the foreground until a service exits or we are interrupted.
wait -n "${pids[@]}" || true
echo "a service exited; see $LOG_DIR/" >&2
