"""``cordon serve``: gunicorn on the configured database, static files served by the app (whitenoise)."""
import os


def add_arguments(p):
    p.add_argument("--host", default=os.environ.get("CORDON_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CORDON_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("CORDON_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("CORDON_THREADS", "4")))


def serve(host: str, port: int, workers: int = 2, threads: int = 4) -> None:
    from gunicorn.app.base import BaseApplication

    from cordon.config.wsgi import application

    class App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("accesslog", os.environ.get("CORDON_ACCESS_LOG") or None)
            self.cfg.set("timeout", 120)
            self.cfg.set("graceful_timeout", 5)

        def load(self):
            return application

    App().run()


def run(args) -> int:
    from django.db import connections

    connections.close_all()  # workers open their own connections after the fork
    print(f"Cordon serving on http://{args.host}:{args.port}/ ({args.workers} workers)", flush=True)
    serve(args.host, args.port, args.workers, args.threads)
    return 0
