"""The worker ``cordon serve`` runs: gunicorn's threaded worker that accepts a new connection only while one of
its threads is free.

gunicorn's own threaded worker accepts every connection it can (up to ``worker_connections``, 1 000) and queues
their requests for its threads. When many clients connect at once (200 phones syncing after the network
returns), whichever worker wakes first takes most of them, and with keep-alive they stay there: measured with
``cordon bench phone`` (200 clients, 2 workers), one worker spent 2.2 s of CPU and the other 0.64 s, so the
busy one, held to one core by the interpreter's lock, set the last answer's time while the other core idled.
Accepting only with a free thread leaves the other connections in the kernel's queue for whichever worker frees
a thread first, as gunicorn's synchronous worker does. A request on a kept-alive connection is still taken at
once by the worker that holds the connection.
"""
from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class Worker(ThreadWorker):
    """``ThreadWorker`` that stops accepting while its requests in hand fill its threads (all counted on the
    worker's main thread: a request is in hand from ``enqueue_req`` to ``finish_request``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.in_hand = 0

    def free(self) -> bool:
        return self.in_hand < self.cfg.threads

    def enqueue_req(self, conn):
        self.in_hand += 1
        super().enqueue_req(conn)
        if not self.free():
            self.set_accept_enabled(False)

    def finish_request(self, conn, fs):
        self.in_hand -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled):
        # (the main loop asks to accept whenever it is under ``worker_connections``; it asks again on each turn,
        # which comes after every finished request, so refusing here only delays accepting until a thread frees)
        super().set_accept_enabled(enabled and self.free())
