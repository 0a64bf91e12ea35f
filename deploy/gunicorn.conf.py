"""gunicorn settings for firesafe-web.service (gunicorn -c deploy/gunicorn.conf.py firesafe.wsgi)."""
import multiprocessing
import os

wsgi_app = "firesafe.wsgi:application"
# nginx on the same machine proxies to this address (deploy/nginx/firesafe.conf, upstream firesafe).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 8)))
# Reports and exports take a while; nginx's proxy_read_timeout is a little longer.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the local proxy.
forwarded_allow_ips = "127.0.0.1"
# Logs go to the journal (journalctl -u firesafe-web).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
