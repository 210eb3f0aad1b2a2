"""``cordon serve``: gunicorn on the configured database, static files served by the app (whitenoise)."""
import os

#: gunicorn's access log line (``CORDON_ACCESS_LOG``) with, at the end, the microseconds the worker spent on
#: the request (``%(D)s``: from its first byte read to its last byte written).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


def add_arguments(p):
    p.add_argument("--host", default=os.environ.get("CORDON_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CORDON_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("CORDON_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("CORDON_THREADS", "4")))
    p.add_argument("--keepalive", type=int, default=int(os.environ.get("CORDON_KEEPALIVE", "75")),
                   help="seconds an idle keep-alive connection stays open (staff reload their desk pages every few "
                        "seconds: a short timeout makes every other reload open a new connection)")


def warm() -> None:
    """Import the URL conf (every app's views, the API's routes and their schemas: about 0.9 s of CPU) in the
    master, before the fork: each worker starts with it, in pages it shares, instead of importing it on its first
    request, under whatever load that request came with (200 phones syncing at once after a restart). The import
    opens no database connection; any it might are closed so that no worker inherits one."""
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the lazy import itself is the point)
    connections.close_all()


def serve(host: str, port: int, workers: int = 2, threads: int = 4, keepalive: int = 75) -> None:
    from gunicorn.app.base import BaseApplication

    from cordon.config.wsgi import application

    warm()

    class App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "cordon.commands.serve_worker.Worker" if threads > 1 else "sync")
            self.cfg.set("keepalive", keepalive)
            self.cfg.set("accesslog", os.environ.get("CORDON_ACCESS_LOG") or None)
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 5)

        def load(self):
            return application

    App().run()


def run(args) -> int:
    from django.db import connections

    connections.close_all()  # workers open their own connections after the fork
    print(f"Cordon serving on http://{args.host}:{args.port}/ ({args.workers} workers)", flush=True)
    serve(args.host, args.port, args.workers, args.threads, args.keepalive)
    return 0
