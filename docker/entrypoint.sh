#!/bin/sh
# Container entry point: refuse to start on the embedded defaults.
#
# portal/settings.py falls back to a SQLite file, a private redis-server and
# keys generated under var/ when DATABASE_URL, REDIS_URL, SECRET_KEY or
# FIELD_ENCRYPTION_KEYS are unset. That is right for `make demo` and wrong in a
# container: every container would get its own database, queue and keys, and
# nothing would say so. Set LEDGERBRIDGE_ALLOW_EMBEDDED=1 to allow it anyway
# (a throwaway single container).
set -eu

if [ "${LEDGERBRIDGE_ALLOW_EMBEDDED:-0}" != "1" ]; then
    missing=""
    for name in DATABASE_URL REDIS_URL SECRET_KEY FIELD_ENCRYPTION_KEYS; do
        eval "value=\${$name:-}"
        if [ -z "$value" ]; then
            missing="$missing $name"
        fi
    done
    if [ -n "$missing" ]; then
        echo "ledgerbridge: not starting; these environment variables are empty:$missing" >&2
        echo "ledgerbridge: see docker/.env.example (or set LEDGERBRIDGE_ALLOW_EMBEDDED=1)." >&2
        exit 78  # EX_CONFIG
    fi
fi

exec "$@"
