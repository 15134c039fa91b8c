"""The review page's routes. Files are addressed by their index in this review's list, never by a path: no
URL can name a file. Pictures and decisions come from the Review (session.py); the page's own files from the
package (no CDN, nothing fetched from elsewhere). Security.Guard stands in front of all of it.
"""

from __future__ import annotations

import json
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from unseen.review.session import Review
from unseen.review.state import READY, SEARCHING, Stale

ASSETS = {  # the only files served, by name
    "review.js": "text/javascript; charset=utf-8",
    "video.js": "text/javascript; charset=utf-8",
    "sound.js": "text/javascript; charset=utf-8",
    "review.css": "text/css; charset=utf-8",
}
MAX_BODY = 1 << 20  # bytes of a POST body: a file's regions are a few kB


def build(review: Review) -> Starlette:
    page = _asset("index.html")
    assets = {name: (_asset(name), kind) for name, kind in ASSETS.items()}

    def index(_request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return PlainTextResponse("not found", 404)
        body, kind = assets[name]
        return Response(body, media_type=kind)

    def state(_request: Request) -> Response:
        return JSONResponse(review.summary())

    def decisions(request: Request) -> Response:
        index = request.path_params["index"]
        if not 0 <= index < len(review.items):
            return PlainTextResponse("not found", 404)
        return JSONResponse(review.decisions(index))

    def thumbnail(request: Request) -> Response:
        index = _ready(review, request)
        if index is None:
            return PlainTextResponse("not found", 404)
        if review.is_video(index):
            return Response(review.video_thumbnail(index), media_type="image/jpeg")
        return Response(review.images.thumbnail(index), media_type="image/jpeg")

    def frame(request: Request) -> Response:
        index = _ready(review, request, video=True)
        obscured = request.query_params.get("obscured", "0")
        if index is None or obscured not in ("0", "1"):
            return PlainTextResponse("not found", 404)
        try:
            data = review.frame_jpeg(index, request.path_params["frame"], obscured == "1")
        except KeyError:
            return PlainTextResponse("not found", 404)
        return Response(data, media_type="image/jpeg")

    def at(request: Request) -> Response:
        index = _ready(review, request, video=True)
        if index is None:
            return PlainTextResponse("not found", 404)
        try:
            return JSONResponse(review.at(index, request.path_params["frame"]))
        except KeyError:
            return PlainTextResponse("not found", 404)

    async def follow(request: Request) -> Response:
        index = _ready(review, request, video=True)
        change = await _json(request)
        if index is None or not isinstance(change, dict):
            return PlainTextResponse("not found", 404)
        found = [change.get(key) for key in ("track", "frame", "count")]
        values = [v for v in found if isinstance(v, int) and not isinstance(v, bool)]
        if len(values) != len(found):
            return JSONResponse({"error": "follow needs track, frame and count"}, 400)
        try:
            return JSONResponse(await run_in_threadpool(review.follow, index, *values))
        except (ValueError, KeyError) as error:
            return JSONResponse({"error": str(error)}, 400)

    def view(request: Request) -> Response:
        index = _ready(review, request, video=False)
        flags = {key: request.query_params.get(key, "0") for key in ("full", "obscured")}
        if index is None or any(value not in ("0", "1") for value in flags.values()):
            return PlainTextResponse("not found", 404)
        data = review.photo_jpeg(index, flags["full"] == "1", flags["obscured"] == "1")
        return Response(data, media_type="image/jpeg")

    async def edit(request: Request) -> Response:
        index = request.path_params["index"]
        if not 0 <= index < len(review.items):
            return PlainTextResponse("not found", 404)
        change = await _json(request)
        if not isinstance(change, dict):
            return PlainTextResponse("a change is a JSON object", 400)
        try:
            return JSONResponse(review.edit(index, change))
        except Stale:
            return JSONResponse({"stale": True, **review.decisions(index)}, 409)
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, 400)

    async def publish(request: Request) -> Response:
        await _json(request)
        started = review.publish_approved()
        return JSONResponse({"started": started}, 200 if started else 409)

    async def finish(request: Request) -> Response:
        await _json(request)
        review.finished.set()
        return JSONResponse({"finished": True})

    def nothing(_request: Request) -> Response:
        return Response(status_code=204)  # the browser asks for an icon: there is none

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/favicon.ico", nothing, methods=["GET"]),
        Route("/static/{name:str}", asset, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/files/{index:int}", decisions, methods=["GET"]),
        Route("/api/files/{index:int}", edit, methods=["POST"]),
        Route("/api/files/{index:int}/thumb", thumbnail, methods=["GET"]),
        Route("/api/files/{index:int}/view", view, methods=["GET"]),
        Route("/api/files/{index:int}/frame/{frame:int}", frame, methods=["GET"]),
        Route("/api/files/{index:int}/at/{frame:int}", at, methods=["GET"]),
        Route("/api/files/{index:int}/follow", follow, methods=["POST"]),
        Route("/api/publish", publish, methods=["POST"]),
        Route("/api/finish", finish, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={_BadRequest: _failed, Exception: _failed})


def _ready(review: Review, request: Request, video: bool | None = None) -> int | None:
    """The file's index if it can be shown: searched, or a video being searched (its frames can be looked at);
    with `video`, only if it is (True) or is not (False) a video."""
    index = request.path_params["index"]
    if not 0 <= index < len(review.items) or review.items[index].state not in (READY, SEARCHING):
        return None
    if video is not None and review.is_video(index) != video:
        return None
    return index


async def _json(request: Request) -> object:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _BadRequest("too large")
    try:
        return json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _BadRequest("not JSON") from None


class _BadRequest(Exception):
    pass


async def _failed(_request: Request, error: Exception) -> Response:
    """Any failure answers in words without its details (they could name a file), and nothing is logged."""
    if isinstance(error, _BadRequest):
        return PlainTextResponse(f"bad request: {error}", 400)
    return PlainTextResponse("the review server could not do that (nothing was changed)", 500)


def _asset(name: str) -> bytes:
    return resources.files("unseen.review").joinpath("static").joinpath(name).read_bytes()
