#!/bin/sh
# One image, several processes: the first argument picks the role (see DESIGN.md, "Processes").
#   web | worker | beat | mcp | manage ARGS... | any other command, exec'd as given.
set -eu

# Waits until PostgreSQL accepts connections, with the same parameters Django will use (the
# settings module parses DATABASE_URL), for up to DB_WAIT_SECONDS. depends_on already orders
# this under compose; the wait matters for `docker run` against an external database.
wait_for_postgres() {
    python - <<'PY'
import os
import sys
import time

import psycopg

from infrastructor import settings

db = settings.DATABASES["default"]
if "postgresql" not in db["ENGINE"]:
    sys.exit(0)
names = {"dbname": "NAME", "user": "USER", "password": "PASSWORD", "host": "HOST", "port": "PORT"}
params = {arg: db[key] for arg, key in names.items() if db.get(key)}
wait_s = float(os.environ.get("DB_WAIT_SECONDS", "60"))
deadline = time.monotonic() + wait_s
while True:
    try:
        psycopg.connect(connect_timeout=3, **params).close()
        break
    except psycopg.OperationalError as e:
        if time.monotonic() >= deadline:
            sys.exit(f"entrypoint: PostgreSQL not reachable after {wait_s:.0f} s: {e}")
        time.sleep(1)
PY
}

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

case "$role" in
    web | worker | beat | mcp)
        # settings.py names the log file under LOG_DIR after the process.
        INFRA_PROCESS="${INFRA_PROCESS:-$role}"
        export INFRA_PROCESS
        ;;
esac

case "$role" in
    web)
        wait_for_postgres
        python manage.py migrate --noinput
        exec daphne -b 0.0.0.0 -p "${WEB_PORT:-9101}" "$@" infrastructor.asgi:application
        ;;
    worker)
        # Threads, not prefork: the work is waiting on SSH, and the SSH pool lives in the process.
        exec celery -A infrastructor worker --pool threads \
            --concurrency "${WORKER_CONCURRENCY:-16}" \
            -Q "${WORKER_QUEUES:-${CELERY_DEFAULT_QUEUE:-default}}" \
            --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        exec celery -A infrastructor beat \
            --scheduler django_celery_beat.schedulers:DatabaseScheduler \
            --loglevel "${LOG_LEVEL:-INFO}" "$@"
        ;;
    mcp)
        exec python manage.py runmcp --transport http --host 0.0.0.0 \
            --port "${MCP_PORT:-9102}" "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
