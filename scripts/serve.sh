#!/usr/bin/env bash
# Start the background worker and the web app together; stopping one stops both.
set -euo pipefail
FLASK=(.venv/bin/flask --app wsgi)
"${FLASK[@]}" worker --interval "${WORKER_INTERVAL:-2}" &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null || true' EXIT INT TERM
"${FLASK[@]}" run --host 127.0.0.1 --port "${PORT:-5000}"
