#!/bin/sh
# Run a management command exactly as the services run: as the user firesafe, in the checkout,
# with the environment systemd reads from /etc/firesafe/firesafe.env.
#   sudo /srv/firesafe/deploy/manage.sh migrate
#   sudo /srv/firesafe/deploy/manage.sh createsuperuser
set -eu
ENV_FILE=${FIRESAFE_ENV_FILE:-/etc/firesafe/firesafe.env}
APP_DIR=$(cd "$(dirname "$0")/.." && pwd)
if [ -t 0 ]; then IO=--pty; else IO=--pipe; fi
exec systemd-run --quiet --wait --collect "$IO" --uid=firesafe --gid=firesafe \
    -p "EnvironmentFile=$ENV_FILE" -p "WorkingDirectory=$APP_DIR" \
    "$APP_DIR/.venv/bin/python" manage.py "$@"
