"""gunicorn settings for the web container. Each value can be set from the
environment, so an operator tunes the stack in docker/.env, not here.

Sizing: the web process only stores what arrives (inbox) and serves the admin;
the work happens in RQ workers. In docs/benchmarks.md sync workers took signed
webhooks faster than gthread, with a much better p99. One to two workers per CPU
the container may use is right: one when the database shares those CPUs, two
when it runs elsewhere and requests spend longer waiting on it. Scale containers
rather than threads.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}") from None


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# os.cpu_count() sees the host's CPUs, not the container's quota, so the default
# is modest; set WEB_CONCURRENCY to match the CPUs you give the container.
workers = _int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1), 4))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _int("GUNICORN_THREADS", 1)
# Webhook senders time out after 5-30 s; a request still running at 30 s is stuck.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# Heartbeat files on tmpfs: a container's overlay filesystem can stall fsync-free
# writes long enough for the arbiter to kill healthy workers.
worker_tmp_dir = "/dev/shm"
# The TLS proxy is another container, so its address is not 127.0.0.1. Trust
# its X-Forwarded-* headers only from the addresses you list (FORWARDED_ALLOW_IPS,
# which gunicorn reads itself); settings.py honours X-Forwarded-Proto only when
# BEHIND_TLS_PROXY is true.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "true") == "true" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Never log the signature header; the default format logs no request headers.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
