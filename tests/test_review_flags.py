"""A face the residual check still sees is answered before its photo is approved or written: the server's
refusals spoken to with raw HTTP, and the answers as the regions file and the report keep them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, SAMPLE_FACE, changed_share
from PIL import Image
from review_helpers import Server, review_server, wait_for
from test_review_server import post, state

from unseen import regions
from unseen.digest import file_sha256
from unseen.errors import UsageError

pytestmark = pytest.mark.slow
GROW = (2**0.5 - 1) / 2  # the page's "Cover": the ellipse through the grown box's corners covers the flag's box


def _decisions(server: Server, cookie: str, index: int) -> dict:
    response = server.request("GET", f"/api/files/{index}", {"Cookie": cookie})
    assert response.status == 200
    return json.loads(response.read_body)


def _checked(server: Server, cookie: str, index: int) -> dict:
    """The file's row once the check has looked at its decisions as they are."""
    wait_for(lambda: state(server, cookie)["files"][index].get("residuals") is not None)
    return state(server, cookie)["files"][index]


def _published(server: Server, cookie: str) -> dict:
    status, _ = post(server, cookie, "/api/publish", {})
    assert status == 200
    wait_for(lambda: not state(server, cookie)["publishing"]["running"])
    return state(server, cookie)


def _faces(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "a.png")
    return folder


def test_a_flag_not_answered_stops_approval_and_publishing_until_not_a_face_is_said(tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "report.json"
    with review_server(_faces(tmp_path), "-o", out, "--report", report) as server:
        cookie = server.cookie()
        _checked(server, cookie, 0)
        # The only detection removed and the photo approved in one change, before the check looked again.
        revision = _decisions(server, cookie, 0)["revision"]
        change = {"revision": revision, "regions": [{"id": 0, "removed": True}], "approved": True}
        status, data = post(server, cookie, "/api/files/0", change)
        assert status == 200 and data["approved"] is True
        row = _published(server, cookie)["files"][0]
        # Not written: publishing checked the decisions first; the photo needs a look again, the flag shown.
        assert "possible face" in row["held"] and row["approved"] is False and row["residuals"] == 1
        assert "published" not in row and not (out / "a.png").exists()
        decided = _decisions(server, cookie, 0)
        (flag,) = decided["residuals"]
        fx1, fy1, fx2, fy2 = SAMPLE_FACE
        assert flag["box"][0] < fx2 and fx1 < flag["box"][2] and flag["box"][1] < fy2 and fy1 < flag["box"][3]
        # Approval is refused while the flag is unanswered, and says why.
        status, answer = post(server, cookie, "/api/files/0", {"revision": decided["revision"], "approved": True})
        assert status == 400 and "possible face" in answer["error"]
        # An answer that is not one is refused and changes nothing.
        for check in ({**flag, "answer": "maybe"}, {**flag, "score": 2, "answer": "not a face"}, "not a face"):
            wrong = [{"id": 0, "removed": True}, {"id": None, "box": flag["box"], "check": check}]
            status, _ = post(server, cookie, "/api/files/0", {"revision": decided["revision"], "regions": wrong})
            assert status == 400
        # "Not a face": kept in the regions file; the photo can be approved and is written as decided.
        said = [{"id": 0, "removed": True}, {"id": None, "box": flag["box"], "check": {**flag, "answer": "not a face"}}]
        status, data = post(server, cookie, "/api/files/0", {"revision": decided["revision"], "regions": said})
        assert status == 200 and data["residuals"] in (None, [])
        assert _checked(server, cookie, 0)["residuals"] == 0
        status, data = post(server, cookie, "/api/files/0", {"revision": data["revision"], "approved": True})
        assert status == 200 and data["approved"] is True
        row = _published(server, cookie)["files"][0]
        assert row["published"]["status"] == "done" and row.get("held") is None
        assert row["approved"] is True and row["residuals"] == 0  # the output's flag is the one answered
        saved = json.loads((tmp_path / "out.regions.json").read_text())
        assert saved["unseen_regions"] == regions.VERSION == 2
        dismissal = saved["files"][0]["regions"][1]
        assert dismissal["origin"] == "person" and dismissal["removed"] is True
        assert dismissal["check"] == {"box": flag["box"], "score": flag["score"], "answer": "not a face"}
        status, _ = post(server, cookie, "/api/finish", {})
        server.process.wait(timeout=60)
    faces = json.loads(report.read_text())["files"][0]["faces"]
    assert faces[1]["check"]["answer"] == "not a face" and faces[1]["origin"] == "person"
    written = np.asarray(Image.open(out / "a.png").convert("RGB"))
    assert changed_share(np.asarray(Image.open(SAMPLE).convert("RGB")), written, SAMPLE_FACE) < 0.05


def test_a_flag_covered_is_a_persons_region_and_a_flag_in_the_written_file_reopens_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with review_server(_faces(tmp_path), "-o", out) as server:
        cookie = server.cookie()
        _checked(server, cookie, 0)
        revision = _decisions(server, cookie, 0)["revision"]
        status, data = post(
            server, cookie, "/api/files/0", {"revision": revision, "regions": [{"id": 0, "removed": True}]}
        )
        assert _checked(server, cookie, 0)["residuals"] == 1
        decided = _decisions(server, cookie, 0)
        (flag,) = decided["residuals"]
        x1, y1, x2, y2 = flag["box"]
        grown = [x1 - (x2 - x1) * GROW, y1 - (y2 - y1) * GROW, x2 + (x2 - x1) * GROW, y2 + (y2 - y1) * GROW]
        covered = [{"id": 0, "removed": True}, {"id": None, "box": grown, "check": {**flag, "answer": "covered"}}]
        status, data = post(server, cookie, "/api/files/0", {"revision": decided["revision"], "regions": covered})
        assert status == 200
        assert _checked(server, cookie, 0)["residuals"] == 0  # covered: the check no longer sees it
        status, data = post(server, cookie, "/api/files/0", {"revision": data["revision"], "approved": True})
        assert status == 200
        assert _published(server, cookie)["files"][0]["published"]["status"] == "done"
        region = json.loads((tmp_path / "out.regions.json").read_text())["files"][0]["regions"][1]
        assert region["origin"] == "person" and "removed" not in region and region["check"]["answer"] == "covered"
    written = np.asarray(Image.open(out / "a.png").convert("RGB"))
    assert changed_share(np.asarray(Image.open(SAMPLE).convert("RGB")), written, SAMPLE_FACE) >= 0.9


def test_regions_files_of_version_1_are_read_and_answers_are_checked(tmp_path: Path) -> None:
    digest = file_sha256(SAMPLE)
    base = {"path": "a.png", "sha256": digest, "width": 512, "height": 512, "approved": True}
    one = tmp_path / "one.json"
    detection = {"box": [180, 60, 270, 180], "score": 0.9, "origin": "detector"}
    one.write_text(json.dumps({"unseen_regions": 1, "files": [{**base, "regions": [detection]}]}))
    (entry,) = regions.load(one).values()
    assert entry.approved and entry.regions[0].check is None  # type: ignore[union-attr]
    check = {"box": [180, 60, 270, 180], "score": 0.6, "answer": "not a face"}
    dismissed = {"box": [180, 60, 270, 180], "score": 1.0, "origin": "person", "removed": True, "check": check}
    two = tmp_path / "two.json"
    two.write_text(json.dumps({"unseen_regions": 2, "files": [{**base, "regions": [dismissed]}]}))
    (entry,) = regions.load(two).values()
    (region,) = entry.regions  # type: ignore[union-attr]
    assert region.dismissed and region.check == regions.Check((180.0, 60.0, 270.0, 180.0), 0.6, "not a face")
    assert regions.load(two) and json.loads(regions.dumps([entry]))["files"][0]["regions"][0] == dismissed
    wrong = [
        (1, dismissed),  # a version 1 file has no answers
        (2, {**dismissed, "removed": False}),  # "not a face" covers nothing
        (2, {**dismissed, "origin": "detector"}),  # an answer is a person's
        (2, {**dismissed, "check": {**check, "answer": "covered"}}),  # covered is not removed
        (2, {**dismissed, "check": {**check, "answer": "perhaps"}}),
        (2, {**dismissed, "check": {**check, "box": [600, 600, 700, 700]}}),
        (3, detection),
    ]
    for version, region_data in wrong:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"unseen_regions": version, "files": [{**base, "regions": [region_data]}]}))
        with pytest.raises(UsageError):
            regions.load(bad)
