"""``cordon serve``'s worker (``commands.serve_worker.Worker``) accepts a new connection only while one of its
threads is free, so that connections arriving together spread over the workers instead of queueing behind the
first one to wake (the phone bench's 200 clients: 2.2 s of CPU in one worker against 0.64 s in the other)."""
from __future__ import annotations

import selectors
import socket
from concurrent.futures import Future
from unittest import mock

import pytest
from gunicorn.config import Config

from cordon.commands import serve_worker


class _Pool:
    """The worker's thread pool, holding each submitted request until the test finishes it."""

    def __init__(self):
        self.held: list[Future] = []

    def submit(self, fn, conn):
        f = Future()
        self.held.append(f)
        return f


@pytest.fixture
def worker():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    cfg = Config()
    cfg.set("threads", 2)
    w = serve_worker.Worker(0, 0, [listener], None, 30, cfg, mock.Mock())
    w.tpool, w.poller = _Pool(), selectors.DefaultSelector()
    w.method_queue = mock.Mock()  # (finish_request is called by the test itself)
    w.set_accept_enabled(True)
    yield w, listener
    w.poller.close()
    listener.close()


def _listening(w, listener) -> bool:
    return w._accepting and listener in {k.fileobj for k in w.poller.get_map().values()}


def _conn():
    c = mock.Mock()
    c.parser.unreader.buf.getvalue.return_value = b""
    return c


def test_accepts_only_while_a_thread_is_free(worker):
    w, listener = worker
    assert _listening(w, listener)
    first, second = _conn(), _conn()
    w.nr_conns += 2
    w.enqueue_req(first)
    assert _listening(w, listener) and w.in_hand == 1
    w.enqueue_req(second)
    assert not _listening(w, listener) and w.in_hand == 2
    w.set_accept_enabled(True)  # the main loop asks on every turn: refused while both threads are taken
    assert not _listening(w, listener)
    f = w.tpool.held[0]
    f.set_result(False)  # the first request done, its connection not kept alive
    w.finish_request(first, f)
    assert w.in_hand == 1 and w.nr_conns == 1
    first.close.assert_called_once()
    w.set_accept_enabled(True)
    assert _listening(w, listener)


def test_a_kept_alive_connection_is_taken_even_when_full(worker):
    w, listener = worker
    conns = [_conn() for _ in range(3)]
    for c in conns:
        w.enqueue_req(c)  # (the third as a kept-alive connection turning readable: the worker holds it already)
    assert w.in_hand == 3 and len(w.tpool.held) == 3 and not _listening(w, listener)
    for c, f in zip(conns, list(w.tpool.held)):
        f.set_result(False)
        w.finish_request(c, f)
    assert w.in_hand == 0
    w.set_accept_enabled(True)
    assert _listening(w, listener)


def test_serve_runs_this_worker_when_threaded():
    seen = {}

    class Stop(Exception):
        pass

    def run(app):
        app.load_config()
        seen["worker"], seen["threads"] = app.cfg.worker_class_str, app.cfg.threads
        raise Stop

    from cordon.commands import serve

    with mock.patch("gunicorn.app.base.BaseApplication.run", run), mock.patch.object(serve, "warm"):
        with pytest.raises(Stop):
            serve.serve("127.0.0.1", 0, workers=2, threads=4)
    assert seen == {"worker": "cordon.commands.serve_worker.Worker", "threads": 4}
