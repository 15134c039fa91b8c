"""Serving the review page on 127.0.0.1, on a free port, from a thread, with nothing logged.

There is no option to listen elsewhere: the page shows originals. uvicorn's loggers are silenced (an access
line or an error could name a file), and its signal handling stays off (the command's own stop flag ends the
review, as it ends any run).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from unseen.review.app import build
from unseen.review.security import Guard
from unseen.review.session import Review

QUIET = ("uvicorn", "uvicorn.error", "uvicorn.access", "starlette", "asyncio")


@contextmanager
def serve(review: Review) -> Iterator[Guard]:
    """The server running for the block; yields its Guard (which holds the URL with the secret)."""
    _silence()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    guard = Guard(build(review), sock.getsockname()[1])
    config = uvicorn.Config(
        guard,
        log_config=None,
        access_log=False,
        log_level="critical",
        server_header=False,
        date_header=False,
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="unseen-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield guard
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


def _silence() -> None:
    for name in QUIET:
        logger = logging.getLogger(name)
        logger.handlers = [logging.NullHandler()]
        logger.propagate = False
