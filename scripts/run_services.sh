#!/usr/bin/env bash
# Start every service of the assistant in the foreground; Ctrl-C (or SIGTERM) stops them all.
# Each service runs under its own supervisor (scripts/supervise.py): one that dies is restarted with
# back-off while the others keep running; the gateway meanwhile answers "the answer follows" and replays
# the messages once Rasa is back (bot/replay.py). Production: systemd units, bot/README.md.
#   action server  127.0.0.1:$ACTION_PORT  (actions/, calls policies/)
#   Rasa server    127.0.0.1:$RASA_PORT    (REST channel + HTTP API behind $RASA_TOKEN)
#                  RASA_NODES=N starts N of them on $RASA_PORT, $RASA_PORT+1, ... (same model, same
#                  action server); the gateway gets them all in RASA_URLS and keeps each conversation
#                  on one node (consistent hashing, bot/rasa_client.py)
#   gateway        $BOT_HOST:$BOT_PORT     (web chat, WeChat, Telegram, staff console) — when bot/ has one
#
# Tracker store with several local nodes: one SQLite file per node (node 0 keeps $RASA_TRACKER_DB, node i
# uses <name>.node<i>.db). SQLite admits one writer at a time, so one file shared by several Rasa
# processes queues their writes and risks "database is locked" as load grows (bot/README.md has a
# measurement); per-node files cannot contend, and are safe only because routing is sticky: a
# conversation's history lives on the node that owns it, and a fail-over to another node (owner down)
# or a change of RASA_NODES starts the moved conversations afresh. Several machines: one PostgreSQL
# tracker store and a Redis lock store for all nodes (endpoints.yml, bot/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# Databases (the gateway's transcript, Rasa's SQLite tracker) and logs hold personal data: owner-only.
umask 077

export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONUNBUFFERED=1
MODELS_DIR=${MODELS_DIR:-models}
ACTION_PORT=${ACTION_PORT:-5055}
RASA_PORT=${RASA_PORT:-5005}
BOT_HOST=${BOT_HOST:-127.0.0.1}
BOT_PORT=${BOT_PORT:-8080}
LOG_DIR=${LOG_DIR:-var/log}
# Rasa's HTTP API can rewrite any conversation: it always needs a token. Without one set, make a fresh one per run.
RASA_TOKEN=${RASA_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')}
RASA_NODES=${RASA_NODES:-1}
[[ "$RASA_NODES" =~ ^[1-9][0-9]*$ ]] || { echo "RASA_NODES must be a positive whole number" >&2; exit 2; }
rasa_ports=() rasa_urls=()
for ((i = 0; i < RASA_NODES; i++)); do
  rasa_ports+=($((RASA_PORT + i)))
  rasa_urls+=("http://127.0.0.1:$((RASA_PORT + i))")
done
# The gateway talks to exactly the nodes started here (RASA_URLS wins over RASA_URL in bot/config.py).
RASA_URLS=$(IFS=,; echo "${rasa_urls[*]}")
export RASA_TOKEN RASA_URL=${rasa_urls[0]} RASA_URLS
# read by endpoints.yml: several copies of the assistant (tests, benchmarks) can run side by side
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export RASA_TRACKER_DB=${RASA_TRACKER_DB:-var/rasa/tracker.db}
tracker_db_for_node() {  # index -> SQLite file of that node
  if (($1 == 0)); then echo "$RASA_TRACKER_DB"; else echo "${RASA_TRACKER_DB%.db}.node$1.db"; fi
}
rasa_log_for_node() {
  if (($1 == 0)); then echo "$LOG_DIR/rasa.log"; else echo "$LOG_DIR/rasa.node$1.log"; fi
}
export BOT_HOST BOT_PORT
# the gateway's retention (BOT_RETENTION_DAYS) also purges idle conversations from each node's tracker
tracker_urls=()
for ((i = 0; i < RASA_NODES; i++)); do
  db=$(tracker_db_for_node "$i")
  [[ $db == /* ]] || db="$PWD/$db"
  tracker_urls+=("sqlite:///$db")
done
export BOT_RASA_TRACKER_URLS=${BOT_RASA_TRACKER_URLS:-$(IFS=,; echo "${tracker_urls[*]}")}
mkdir -p var/rasa "$(dirname "$RASA_TRACKER_DB")" "$LOG_DIR"
chmod 700 var var/rasa "$(dirname "$RASA_TRACKER_DB")" "$LOG_DIR" 2>/dev/null || true

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
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then echo "ready: $name  ${url%%\?*}"; return 0; fi  # never print the token
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a supervisor exited early; see $LOG_DIR/" >&2; return 1; }; done
    sleep 1
  done
  echo "$name did not become ready in ${seconds}s; see $LOG_DIR/" >&2
  return 1
}

supervise() {  # name log command... : the service under scripts/supervise.py (restarted when it dies)
  local name=$1 log=$2
  shift 2
  .venv/bin/python scripts/supervise.py --name "$name" --log "$log" -- "$@" &
  pids+=($!)
}

supervise actions "$LOG_DIR/actions.log" env SANIC_HOST=127.0.0.1 .venv/bin/rasa run actions --actions actions --port "$ACTION_PORT"
for ((i = 0; i < RASA_NODES; i++)); do
  supervise "rasa$i" "$(rasa_log_for_node "$i")" env RASA_TRACKER_DB="$(tracker_db_for_node "$i")" \
    .venv/bin/python scripts/rasa_server.py run --model "$MODELS_DIR/assistant.tar.gz" --enable-api \
    --interface 127.0.0.1 --port "${rasa_ports[$i]}" --endpoints endpoints.yml --credentials credentials.yml
done
if [ -f bot/__main__.py ]; then
  supervise gateway "$LOG_DIR/gateway.log" .venv/bin/python -m bot
fi

wait_for "action server" "http://127.0.0.1:$ACTION_PORT/health" 120
# Nodes load TensorFlow side by side on the same cores: allow each a little more time.
for port in "${rasa_ports[@]}"; do
  wait_for "Rasa server  " "http://127.0.0.1:$port/status?token=$RASA_TOKEN" $((180 + 60 * (RASA_NODES - 1)))
done
if [ -f bot/__main__.py ]; then
  wait_for "gateway      " "http://$BOT_HOST:$BOT_PORT/healthz" 60
  echo "web chat:      http://$BOT_HOST:$BOT_PORT/"
  echo "staff console: http://$BOT_HOST:$BOT_PORT/console  (accounts: .venv/bin/python -m bot staff add <login> --role admin)"
fi
echo "all services up (logs in $LOG_DIR/). Chat in a terminal with 'make shell'. Ctrl-C stops everything."
# Stay in the foreground: services that die are restarted by their supervisors; only a supervisor's own
# end (or Ctrl-C) stops everything.
wait -n "${pids[@]}" || true
echo "a supervisor exited; see $LOG_DIR/" >&2
