#!/bin/sh
# The roles of the one MotCua Cloud image (infra/docker/Dockerfile).
set -eu
role="${1:-web}"
[ "$#" -gt 0 ] && shift
mkdir -p "${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}"
case "$role" in
  web)
    # Workers' metric files of an earlier start are stale: start from an empty folder.
    rm -f "${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}"/*.db
    exec gunicorn config.wsgi:application --config /app/infra/gunicorn.conf.py "$@" ;;
  worker)
    exec celery -A config.celery_app worker --loglevel INFO -Q "${CELERY_QUEUES:-celery,provisioning}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" --without-mingle "$@" ;;
  beat)
    # One beat (the Deployment has one replica, Recreate); ops.jobs makes an overlap harmless.
    exec celery -A config.celery_app beat --loglevel INFO --schedule /tmp/celerybeat-schedule "$@" ;;
  migrate)
    # The release's migration Job: public schema, template, then only the schemas behind.
    exec python manage.py migrate_agencies "$@" ;;
  manage)
    exec python manage.py "$@" ;;
  *)
    echo "unknown role: $role (web, worker, beat, migrate, manage)" >&2; exit 64 ;;
esac
