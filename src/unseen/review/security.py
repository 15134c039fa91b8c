"""Who may talk to the review server: the one browser that opened the printed address, and nothing else.

The server shows a person's unobscured originals, the most sensitive thing they have. So, before any route:
- the Host header must be 127.0.0.1 and this port (a DNS-rebinding page names its own host: refused);
- the first visit brings the secret from the printed URL (at least 128 bits) and swaps it for a cookie that
  is HttpOnly and SameSite=Strict; every other request without that cookie gets 403;
- a request that changes anything is a POST from this origin (Origin header) with a header a cross-site form
  cannot send, and a JSON body: a page elsewhere can neither read from nor write to this one (no CORS);
- every response forbids framing, sniffing, referrers and caching (originals must not land in the browser's
  disk cache), and its Content-Security-Policy allows this origin only, with no inline script.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

SECRET_BYTES = 24  # 192 bits in the URL
HEADER = "x-unseen"  # the header every state-changing request carries (a form cannot set one)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The answer to the secret: on to the page (no script: the CSP allows none inline).
ONWARD = (
    b'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">'
    b'<title>unseen review</title><p><a href="/">Open the review</a></p>\n'
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class Guard:
    """ASGI middleware in front of the review app; `port` is the one the server listens on."""

    def __init__(self, app: App, port: int) -> None:
        self.app, self.port = app, port
        self.secret = secrets.token_urlsafe(SECRET_BYTES)
        self.session = secrets.token_urlsafe(SECRET_BYTES)  # the cookie: not the URL's secret, which may be seen
        self.cookie = f"unseen-review-{port}"  # one per port: two reviews at once keep their own
        self.origin = f"http://127.0.0.1:{port}"
        self.exchanged = threading.Event()  # set once a browser has brought the secret

    @property
    def url(self) -> str:
        return f"{self.origin}/?key={self.secret}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no websockets, no lifespan
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        send = _with_headers(send)
        if headers.get("host") != f"127.0.0.1:{self.port}":
            await _plain(send, 403, "unseen review answers on its own address only.")
            return
        if scope["method"] == "GET" and scope["path"] == "/" and "key" in parse_qs(scope["query_string"].decode()):
            await self._exchange(scope, send)
            return
        if not self._has_session(headers):
            await _plain(send, 403, "Open the address that unseen review printed (it holds a secret key).")
            return
        if scope["method"] not in ("GET", "POST"):
            await _plain(send, 405, "not allowed")
            return
        if scope["method"] == "POST" and not self._same_origin(headers):
            await _plain(send, 403, "refused: not from the review page")
            return
        await self.app(scope, receive, send)

    async def _exchange(self, scope: Scope, send: Send) -> None:
        given = parse_qs(scope["query_string"].decode()).get("key", [""])[0]
        if not secrets.compare_digest(given.encode(), self.secret.encode()):
            await _plain(send, 403, "wrong key: open the address that unseen review printed")
            return
        cookie = f"{self.cookie}={self.session}; Path=/; HttpOnly; SameSite=Strict"
        # To "/" at once: the secret leaves the address bar (and the history entry the page lives under). Not by
        # a redirect: a visit that comes from elsewhere (the file:// page unseen opens the browser with) would
        # carry the cross-site origin down the redirect, and the SameSite=Strict cookie would not be sent to
        # "/". A refresh from this page is a visit from this origin.
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(ONWARD)).encode()),
                    (b"set-cookie", cookie.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": ONWARD})
        self.exchanged.set()

    def _has_session(self, headers: dict[str, str]) -> bool:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no session
            return False
        morsel = jar.get(self.cookie)
        return morsel is not None and secrets.compare_digest(morsel.value.encode(), self.session.encode())

    def _same_origin(self, headers: dict[str, str]) -> bool:
        return (
            headers.get("origin") == self.origin
            and headers.get(HEADER) == "1"
            and headers.get("content-type", "").split(";")[0].strip() == "application/json"
        )


def _with_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {name for name, _ in HEADERS}
            kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
            message = {**message, "headers": kept + HEADERS}
        await send(message)

    return wrapped


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
