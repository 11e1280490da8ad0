#!/usr/bin/env bash
# Production on one host: migrate, then gunicorn, the Celery worker and Celery beat as children.
# SIGTERM/SIGINT stops all three cleanly (Celery finishes its running tasks first); if one of
# them dies, the others are stopped and the script exits with its status, so a supervisor
# (systemd, a container runtime) restarts the whole set. Several hosts: run gunicorn and the
# worker on each, beat on exactly one (see README, "Deploying for a city").
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[[ -n "${DATABASE_URL:-}" ]] || missing+=(DATABASE_URL)
[[ -n "${BROKER_URL:-}" ]] || missing+=(BROKER_URL)
if ((${#missing[@]})); then
  {
    echo "run-prod: please set ${missing[*]}, e.g."
    echo "  DATABASE_URL=postgresql+psycopg://creditflow:PASSWORD@db-host:5432/creditflow"
    echo "  BROKER_URL=redis://redis-host:6379/0"
    echo "(make run serves the embedded SQLite mode without them)"
  } >&2
  exit 2
fi
case "$DATABASE_URL" in
  postgresql*) ;;
  *) echo "run-prod: DATABASE_URL must point at PostgreSQL (postgresql+psycopg://…)" >&2; exit 2 ;;
esac
case "$BROKER_URL" in
  redis://* | rediss://*) ;;
  *) echo "run-prod: BROKER_URL must point at Redis (redis://host:6379/0)" >&2; exit 2 ;;
esac

# Production config: Secure cookies (HTTPS only; SESSION_COOKIE_SECURE=0 to try it over http).
export APP_ENV="${APP_ENV:-production}"

BIN=${VENV:-.venv}/bin
"$BIN/flask" --app wsgi db upgrade

pids=()
"$BIN/gunicorn" -c gunicorn.conf.py &
pids+=($!)
"$BIN/celery" -A app.celery_app:celery worker --loglevel "${CELERY_LOGLEVEL:-INFO}" \
  --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "creditflow@%h" &
pids+=($!)
if [[ "${RUN_BEAT:-1}" == "1" ]]; then
  "$BIN/celery" -A app.celery_app:celery beat --loglevel "${CELERY_LOGLEVEL:-INFO}" \
    --schedule "${CELERY_BEAT_SCHEDULE:-${INSTANCE_DIR:-instance}/celerybeat-schedule}" &
  pids+=($!)
fi

stop() {
  trap - TERM INT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 0' TERM INT

status=0
wait -n "${pids[@]}" || status=$?
echo "run-prod: a process exited (status $status); stopping the others" >&2
stop
exit "$status"
