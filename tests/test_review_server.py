"""The review server as an attacker and as the page see it: who gets in, what a request can name, and what a
change does to the regions file. A real server in a child process, spoken to with raw HTTP."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SAMPLE, run_cli
from PIL import Image
from review_helpers import Server, make_photos, review_server, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    make_photos(root / "photos")
    return root


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[Server]:
    with review_server(folder / "photos", "-o", folder / "out") as running:
        yield running


@pytest.fixture(scope="module")
def cookie(server: Server) -> str:
    return server.cookie()


def state(server: Server, cookie: str) -> dict:
    response = server.request("GET", "/api/state", {"Cookie": cookie})
    assert response.status == 200
    return json.loads(response.read_body)


def ready(server: Server, cookie: str) -> dict:
    wait_for(lambda: state(server, cookie)["waiting"] == 0)
    return state(server, cookie)


def post(server: Server, cookie: str, path: str, body: object, **headers: str | None) -> tuple[int, dict]:
    sent = {
        "Cookie": cookie,
        "Origin": server.origin,
        "X-Unseen": "1",
        "Content-Type": "application/json",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    response = server.request("POST", path, sent, json.dumps(body).encode())
    text = response.read_body
    return response.status, (json.loads(text) if text.startswith(b"{") else {})


def regions_file(folder: Path) -> dict:
    return {f["path"]: f for f in json.loads((folder / "out.regions.json").read_text())["files"]}


# -- who gets in -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/state", "/api/files/0", "/api/files/0/view", "/static/review.js"])
def test_without_the_secret_every_request_is_refused(server: Server, path: str) -> None:
    response = server.request("GET", path)
    assert response.status == 403
    assert b"unseen" in response.read_body and b"astronaut" not in response.read_body


def test_a_wrong_secret_gets_no_cookie(server: Server) -> None:
    for key in ["wrong", server.secret[:-1], server.secret + "x", ""]:
        response = server.request("GET", f"/?key={key}")
        assert response.status == 403 and response.getheader("Set-Cookie") is None


def test_the_secret_is_swapped_for_a_strict_httponly_cookie(server: Server) -> None:
    assert len(server.secret) >= 22  # 128 bits in URL-safe base64 (this one: 192)
    response = server.request("GET", f"/?key={server.secret}")
    # The secret leaves the address bar: on to "/" by a refresh from this origin (a redirect would carry the
    # cross-site origin of the file:// page unseen opens the browser with, and the strict cookie not be sent).
    assert response.status == 200 and response.getheader("Location") is None
    assert b'http-equiv="refresh" content="0;url=/"' in response.read_body
    cookie = response.getheader("Set-Cookie")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert server.secret not in cookie
    assert server.request("GET", "/api/state", {"Cookie": cookie.split(";")[0]}).status == 200
    forged = cookie.split("=")[0] + "=" + server.secret
    assert server.request("GET", "/api/state", {"Cookie": forged}).status == 403


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "localhost:{port}", "127.0.0.1", "127.0.0.1:1", "[::1]:{port}", None]
)
def test_a_request_for_another_host_is_refused_even_with_the_cookie(server: Server, cookie: str, host: str) -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 sends its own Host."""
    headers = {"Cookie": cookie, "Host": host.format(port=server.port) if host else None}
    refused = (403, 400) if host is None else (403,)  # no Host at all: HTTP/1.1's parser refuses it first
    assert server.request("GET", "/api/state", headers).status in refused
    assert server.request("GET", f"/?key={server.secret}", {"Host": headers["Host"]}).status in refused


def test_it_listens_on_the_loopback_interface_only(server: Server) -> None:
    listening = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state_code = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if int(port, 16) == server.port and state_code == "0A":  # LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1
    assert Path("/proc/net/tcp6").exists() is False or f":{server.port:04X} " not in Path("/proc/net/tcp6").read_text()


# -- what a request can do --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": None},
        {"Origin": "null"},
        {"X-Unseen": None},
        {"Content-Type": "text/plain"},  # what a cross-site form can send
        {"Content-Type": "application/x-www-form-urlencoded"},
    ],
    ids=["other-origin", "no-origin", "null-origin", "no-header", "text-plain", "form"],
)
def test_a_cross_site_post_changes_nothing(server: Server, cookie: str, folder: Path, headers: dict) -> None:
    ready(server, cookie)
    before = (folder / "out.regions.json").read_bytes()
    revision = state(server, cookie)["files"][0]["revision"]
    status, _ = post(server, cookie, "/api/files/0", {"revision": revision, "approved": True}, **headers)
    assert status == 403
    status, _ = post(server, cookie, "/api/publish", {}, **headers)
    assert status == 403
    assert (folder / "out.regions.json").read_bytes() == before
    assert not (folder / "out").exists()


def test_no_cors_headers_and_no_preflight(server: Server, cookie: str) -> None:
    evil = {"Cookie": cookie, "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    for method in ("OPTIONS", "GET"):
        response = server.request(method, "/api/state", evil)
        assert not [h for h in response.getheaders() if h[0].lower().startswith("access-control-")]
    assert server.request("OPTIONS", "/api/state", evil).status in (403, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/%2e%2e%2f%2e%2e%2fconftest.py",
        "/static/index.html/../../app.py",
        "/static/session.py",
        "/api/files/-1",
        "/api/files/3",
        "/api/files/99999999999999999999",
        "/api/files/0x0",
        "/api/files/1.0",
        "/api/files/%30%2f..%2f..%2fetc%2fpasswd",
        "/api/files/../../../etc/passwd",
        "/api/files/0/../../../etc/passwd",
        "/api/files/0/view?full=../../etc/passwd",
        "/api/files/0/view?obscured=/etc/passwd",
        "/api/files/0/thumb/../../../../etc/passwd",
        "/etc/passwd",
        "//etc/passwd",
        "/api/files/a_astronaut.png",
        "/api/files/photos%2fa_astronaut.png/view",
    ],
)
def test_no_url_can_name_a_file(server: Server, cookie: str, path: str) -> None:
    ready(server, cookie)
    response = server.request("GET", path, {"Cookie": cookie})
    assert response.status in (404, 405), (path, response.status)
    assert b"root:" not in response.read_body and b"import" not in response.read_body


def test_every_response_carries_the_content_security_policy(server: Server, cookie: str) -> None:
    ready(server, cookie)
    for path, headers in [
        ("/", {"Cookie": cookie}),
        ("/static/review.js", {"Cookie": cookie}),
        ("/api/files/0/view", {"Cookie": cookie}),
        ("/api/state", {}),  # refused: 403
        ("/nothing", {"Cookie": cookie}),  # 404
    ]:
        response = server.request("GET", path, headers)
        policy = response.getheader("Content-Security-Policy")
        assert "default-src 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe" not in policy and "http" not in policy
        assert response.getheader("Cache-Control") == "no-store"  # originals never land in the disk cache
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("Referrer-Policy") == "no-referrer"


def test_the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere() -> None:
    static = resources.files("unseen.review").joinpath("static")

    class Check(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names = dict(attrs)
            assert not any(name.startswith("on") for name in names), tag  # no inline handlers
            assert "style" not in names and tag != "style"
            if tag == "script":
                assert names.get("src", "").startswith("/static/")
            for name in ("src", "href"):
                assert not re.match(r"^(https?:)?//", names.get(name) or ""), names[name]

    Check().feed(static.joinpath("index.html").read_text())
    for name in ("review.js", "video.js", "sound.js", "review.css"):
        text = static.joinpath(name).read_text()
        assert not re.search(r"https?://|//cdn|@import|eval\(|new Function", text), name


# -- what a change does --------------------------------------------------------------------------------------------


def test_a_change_is_in_the_regions_file_at_once_and_a_changed_file_is_no_longer_approved(
    server: Server, cookie: str, folder: Path
) -> None:
    rows = ready(server, cookie)["files"]
    index = next(r["index"] for r in rows if r["name"].endswith("a_astronaut.png"))
    name = rows[index]["name"]
    status, data = post(server, cookie, f"/api/files/{index}", {"revision": rows[index]["revision"], "approved": True})
    assert status == 200 and data["approved"] is True
    assert regions_file(folder)[name]["approved"] is True
    regions = [{"id": r["id"], "removed": r.get("removed", False)} for r in data["regions"]]
    added = [*regions, {"box": [10, 10, 60, 70]}]
    status, data = post(server, cookie, f"/api/files/{index}", {"revision": data["revision"], "regions": added})
    assert status == 200 and data["approved"] is False
    saved = regions_file(folder)[name]
    assert saved["approved"] is False
    assert saved["regions"][-1] == {"box": [10.0, 10.0, 60.0, 70.0], "score": 1.0, "origin": "person"}
    assert not [p for p in (folder).iterdir() if p.name.endswith(".unseen-tmp")]
    # An edit made on an older revision (another tab) is refused with the current state, never merged blindly.
    status, stale = post(server, cookie, f"/api/files/{index}", {"revision": 0, "regions": regions})
    assert status == 409 and stale["revision"] == data["revision"]


@pytest.mark.parametrize(
    "regions",
    [
        [],  # a detection dropped from the record
        [{"box": [-50, -50, -10, -10]}],  # outside the photo
        [{"box": [1, 2, 3]}],
        [{"box": ["a", 1, 2, 3]}],
        [{"box": [float("1e400"), 1, 2, 3]}],
        "not a list",
    ],
    ids=["dropped", "outside", "three", "text", "infinite", "not-list"],
)
def test_an_impossible_change_is_refused_and_changes_nothing(
    server: Server, cookie: str, folder: Path, regions: object
) -> None:
    rows = ready(server, cookie)["files"]
    index = next(r["index"] for r in rows if r["name"].endswith("c_cartoon.png"))
    before = (folder / "out.regions.json").read_bytes()
    detections = [{"id": 0, "removed": False}] if isinstance(regions, list) and regions else []
    body = {"revision": rows[index]["revision"], "regions": detections + regions if detections else regions}
    status, _ = post(server, cookie, f"/api/files/{index}", body)
    assert status == 400
    assert (folder / "out.regions.json").read_bytes() == before


def test_a_detection_keeps_its_box_whatever_the_page_sends(server: Server, cookie: str, folder: Path) -> None:
    rows = ready(server, cookie)["files"]
    index = next(r["index"] for r in rows if r["name"].endswith("c_cartoon.png"))
    detail = json.loads(server.request("GET", f"/api/files/{index}", {"Cookie": cookie}).read_body)
    box = detail["regions"][0]["box"]
    body = {"revision": detail["revision"], "regions": [{"id": 0, "box": [0, 0, 5, 5], "removed": False}]}
    status, data = post(server, cookie, f"/api/files/{index}", body)
    assert status == 200 and data["regions"][0]["box"] == box and data["regions"][0]["origin"] == "detector"


def test_nothing_is_logged_and_finish_ends_the_command(folder: Path) -> None:
    """A server of its own: its whole output, after requests good and bad, names no file and logs no request."""
    with review_server(folder / "photos", "-o", folder / "out2", "--regions", folder / "other.json") as running:
        cookie = running.cookie()
        wait_for(lambda: state(running, cookie)["waiting"] == 0)
        for path in ("/api/files/0/view?full=1", "/api/files/1/thumb", "/static/nothing", "/api/files/7"):
            running.request("GET", path, {"Cookie": cookie})
        running.request("GET", "/api/state", {"Host": "evil.example"})
        post(running, cookie, "/api/files/0", {"revision": 99})
        post(running, cookie, "/api/files/0", b"\xff".decode("latin-1"))
        assert post(running, cookie, "/api/finish", {})[0] == 200
        code = running.process.wait(timeout=60)
        out, err = running.process.communicate()
    assert code == 0
    lines = (out + err).splitlines()
    assert len(lines) == 2, lines  # where decisions are kept, and the end (the address was read above)
    text = out + err
    for word in ("a_astronaut", "b_blinds", "c_cartoon", "GET", "POST", "HTTP", "Traceback"):
        assert word not in text


def test_bad_regions_files_and_places_are_one_line(folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"unseen_regions": 1, "files": [{"path": "x", "oops": 1}]}')
    for args in (
        ["--regions", bad],
        ["--regions", folder / "out3" / "inside.json"],
        ["--regions", folder / "photos" / "inside.json"],
    ):
        result = run_cli("review", folder / "photos", "-o", folder / "out3", *args, "--no-browser")
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("unseen: ")
    result = run_cli("review", folder / "photos", "--no-browser")
    assert result.returncode == 2 and "-o" in result.stderr and "unseen review --help" in result.stderr
    result = run_cli("review", folder / "nothing-here", "-o", folder / "out6", "--no-browser")  # never waits
    assert result.returncode == 2 and result.stderr.splitlines() == [
        f"unseen: {folder / 'nothing-here'}: no such file or folder",
        "unseen: no photos or videos to review in the given paths",
    ]


def test_ctrl_c_ends_the_review_with_the_decisions_saved(folder: Path) -> None:
    with review_server(folder / "photos", "-o", folder / "out4", "--regions", folder / "four.json") as running:
        cookie = running.cookie()
        wait_for(lambda: state(running, cookie)["waiting"] == 0)
        running.process.send_signal(signal.SIGINT)
        code = running.process.wait(timeout=60)
        _out, err = running.process.communicate()
    assert code == 0 and "decisions in" in err and "Traceback" not in err
    assert len(json.loads((folder / "four.json").read_text())["files"]) == 3


def test_the_preview_is_what_is_written(folder: Path) -> None:
    """The obscured view the page shows (full resolution, and the downscaled one) against the published file."""
    large = folder / "large"
    large.mkdir()
    sample = Image.open(SAMPLE).convert("RGB")
    sample.resize((1800, 1800), Image.Resampling.LANCZOS).save(large / "a_astronaut.png")  # past the 1600-px view
    out = folder / "out5"
    with review_server(large, "-o", out, "--regions", folder / "five.json") as running:
        cookie = running.cookie()
        rows = ready(running, cookie)["files"]
        index = 0
        views = {}
        for full in ("1", "0"):
            response = running.request("GET", f"/api/files/{index}/view?full={full}&obscured=1", {"Cookie": cookie})
            views[full] = cv2.imdecode(np.frombuffer(response.read_body, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        status, _ = post(
            running, cookie, f"/api/files/{index}", {"revision": rows[index]["revision"], "approved": True}
        )
        assert status == 200 and post(running, cookie, "/api/publish", {})[0] == 200
        wait_for(lambda: state(running, cookie)["files"][index].get("published") is not None)
        assert post(running, cookie, "/api/finish", {})[0] == 200
        running.process.wait(timeout=60)
    written = np.asarray(Image.open(out / "a_astronaut.png").convert("RGB"))
    covered = (written == 0).all(axis=2)
    assert covered.mean() > 0.05  # the face is there, covered
    for full, view in views.items():
        expected = written if full == "1" else cv2.resize(written, view.shape[1::-1], interpolation=cv2.INTER_AREA)
        dark_expected = (expected < 16).all(axis=2)
        dark_seen = (view < 16).all(axis=2)
        assert (dark_expected == dark_seen).mean() > 0.99, full  # the covered area, where the page showed it
        assert np.abs(view.astype(int) - expected.astype(int)).mean() < 3, full  # the rest, as written (JPEG aside)


def test_a_video_can_be_looked_at_while_it_is_searched(tmp_path: Path) -> None:
    """Its frames and the tracks found so far are served at once; changes wait until the search is done."""
    from review_helpers import make_clip

    folder = tmp_path / "clips"
    folder.mkdir()
    make_clip(folder / "long.mp4", frames=900)
    with review_server(folder, "-o", tmp_path / "out") as running:
        cookie = running.cookie()
        wait_for(lambda: state(running, cookie)["files"][0]["state"] != "waiting", timeout=60)
        row = state(running, cookie)["files"][0]
        assert row["state"] == "searching" and row["kind"] == "video"
        detail = json.loads(running.request("GET", "/api/files/0", {"Cookie": cookie}).read_body)
        assert detail["state"] == "searching" and detail["frames"] == 900
        frame = running.request("GET", "/api/files/0/frame/450", {"Cookie": cookie})
        assert frame.status == 200 and frame.read_body[:2] == b"\xff\xd8"
        assert running.request("GET", "/api/files/0/at/10", {"Cookie": cookie}).status == 200
        status, _answer = post(running, cookie, "/api/files/0", {"revision": detail["revision"], "approved": True})
        assert status in (400, 409) and state(running, cookie)["files"][0]["state"] == "searching"
        wait_for(lambda: state(running, cookie)["files"][0].get("faces", 0) > 0, timeout=60)  # tracks stream in
        assert (
            not (tmp_path / "out.regions.json").exists()
            or "long.mp4" not in (tmp_path / "out.regions.json").read_text()
        )


def test_a_video_is_checked_before_it_is_written(tmp_path: Path) -> None:
    """Remove the track of the face the detector found: the check on the decisions sees it on the timeline
    (the sampled frames before the blinds), and bringing the track back clears it."""
    from review_helpers import BLINDS_FROM, make_clip

    folder = tmp_path / "clips"
    folder.mkdir()
    make_clip(folder / "march.mp4")
    with review_server(folder, "-o", tmp_path / "out") as running:
        cookie = running.cookie()

        def checked() -> dict:
            def done() -> bool:
                row = state(running, cookie)["files"][0]
                return row["state"] == "ready" and row.get("checking") is False

            wait_for(done, timeout=120)
            return json.loads(running.request("GET", "/api/files/0", {"Cookie": cookie}).read_body)

        detail = checked()
        assert detail["flagged"] == []
        face = min(detail["tracks"], key=lambda t: t["first"] if t["origin"] == "detector" else 1e9)
        tracks = [{"id": t["id"], "removed": t["id"] == face["id"]} for t in detail["tracks"]]
        status, _ = post(running, cookie, "/api/files/0", {"revision": detail["revision"], "tracks": tracks})
        assert status == 200
        detail = checked()
        assert {0, 5, 10, 15, 20, 25} & set(detail["flagged"]) and max(detail["flagged"]) < BLINDS_FROM + 10
        tracks = [{"id": t["id"], "removed": False} for t in detail["tracks"]]
        status, _ = post(running, cookie, "/api/files/0", {"revision": detail["revision"], "tracks": tracks})
        assert checked()["flagged"] == []


def test_a_photo_found_after_the_one_beside_it_was_shown_has_its_view_made_ahead(tmp_path: Path) -> None:
    """The first switch to the next photo is a cache hit even when that photo was still being searched when the
    first was shown (bench/review.py: the first switch took 221 ms before, the others about 30)."""
    import threading

    from unseen.faces import Faces
    from unseen.paths import plan
    from unseen.photo import Options
    from unseen.review.session import READY, Review

    make_photos(tmp_path / "in")
    jobs = plan([tmp_path / "in"], tmp_path / "out", None, writing=True)
    release = threading.Event()
    calls: list[int] = []

    def detector(image: np.ndarray) -> Faces:  # the second photo's search waits until the first is shown
        calls.append(1)
        if len(calls) == 2:
            release.wait(10)
        return Faces()

    review = Review(jobs, [tmp_path / "in"], tmp_path / "regions.json", Options(verify=False), detector, None)
    review.start()
    try:
        wait_for(lambda: review.items[0].state == READY)
        review.photo_jpeg(0, full=False, obscured=False)  # shown while the second photo is searched
        assert review.items[1].state != READY and (1, False, None) not in review.images._encoded
        release.set()
        wait_for(lambda: review.items[1].state == READY)
        wait_for(lambda: (1, False, None) in review.images._encoded)  # made ahead, not asked for
    finally:
        release.set()
        review.close()
