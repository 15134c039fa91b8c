"""The camera's sensor fingerprint (PRNU) is taken out of every photo written: a link the standard detector finds
before is gone after, on real cameras and on fingerprints made here; every format, grey, 16-bit and alpha kept."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO, SHARED_DATA
from PIL import Image

from unseen import formats
from unseen.faces import Faces
from unseen.media import sensor_noise
from unseen.paths import plan
from unseen.photo import Options, process

sys.path.insert(0, str(REPO / "bench"))

import prnu  # the examiner's detector (bench/prnu.py; PyWavelets, in the dev and bench extras)

CAMERA_NOISE = SHARED_DATA / "camera-noise"
SIDE = 384


def no_faces(image: np.ndarray) -> Faces:
    return Faces()


def jpeg(pixels: np.ndarray) -> np.ndarray:
    """A JPEG round trip at unseen's own settings."""
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, "JPEG", **formats.photo("JPEG").encoder)
    return np.asarray(Image.open(stream).convert("RGB"))


def shot(scene: np.ndarray, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo of `scene` through a sensor whose fingerprint is `k`: the light times (1 + K), plus shot noise."""
    return np.clip(np.rint(scene * (1 + k)[..., None] + rng.normal(0, 1.5, scene.shape)), 0, 255).astype(np.uint8)


def scene(rng: np.random.Generator) -> np.ndarray:
    """Shading and a few flat discs of colour, slightly soft, as a lens draws them."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    picture = np.stack([120 + 80 * xx / SIDE, 100 + 60 * yy / SIDE, 140 - 50 * xx * yy / SIDE**2], axis=2)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, SIDE), rng.uniform(0, SIDE), rng.uniform(20, 60)
        picture[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(40, 220, 3)
    return cv2.GaussianBlur(picture, (0, 0), 1.0)


@pytest.fixture(scope="module")
def camera() -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """A made sensor (a 1 % fingerprint, as real ones measure) and its fingerprint, estimated from 8 flat fields."""
    rng = np.random.default_rng(7)
    k = rng.normal(0, 0.01, (SIDE, SIDE))
    yy, xx = np.mgrid[0:SIDE, 0:SIDE] / SIDE
    flat = np.repeat((170 + 30 * xx * yy)[..., None], 3, axis=2)
    return k, prnu.fingerprint([shot(flat, k, rng) for _ in range(8)]), rng


def test_a_made_fingerprint_links_before_and_not_after(camera: tuple) -> None:
    k, fingerprint, rng = camera
    other = rng.normal(0, 0.01, k.shape)
    for _ in range(2):
        picture = scene(rng)
        mine = shot(picture, k, rng)
        assert prnu.pce(fingerprint, jpeg(mine)) > 10 * prnu.LINKED
        assert prnu.pce(fingerprint, jpeg(sensor_noise.clean(mine))) < prnu.LINKED
        assert prnu.pce(fingerprint, jpeg(shot(picture, other, rng))) < prnu.LINKED  # no false link


def test_the_check_tells_a_treated_output_from_an_untreated_one(camera: tuple) -> None:
    k, _, rng = camera
    mine = shot(scene(rng), k, rng)
    before = sensor_noise.sample(mine)
    assert sensor_noise.left(before, mine) == pytest.approx(1.0)
    assert sensor_noise.left(before, jpeg(sensor_noise.clean(mine))) < sensor_noise.LEFT


def test_two_runs_differ_and_grey_stays_grey() -> None:
    rng = np.random.default_rng(1)
    gray = np.repeat(rng.integers(0, 256, (64, 80, 1), dtype=np.uint8), 3, axis=2)
    first, second = sensor_noise.clean(gray), sensor_noise.clean(gray)
    assert not np.array_equal(first, second)
    assert (first[..., 0] == first[..., 1]).all() and (first[..., 1] == first[..., 2]).all()
    assert np.abs(first.astype(int) - gray).mean() < 3


def test_alpha_is_left_and_a_tiny_picture_is_left_whole() -> None:
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
    out = sensor_noise.clean(rgba)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], rgba[..., 3])
    tiny = rng.integers(0, 256, (8, 300, 3), dtype=np.uint8)
    assert np.array_equal(sensor_noise.clean(tiny), tiny)


def test_bands_of_rows_give_the_same_pixels_as_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    picture = shot(np.concatenate([scene(rng)] * 3)[:, :256], rng.normal(0, 0.01, (3 * SIDE, 256)), rng)
    monkeypatch.setattr(sensor_noise, "_UNIFORM", 0.0)  # no fresh noise: the filter alone
    whole = sensor_noise.clean(picture)
    monkeypatch.setattr(sensor_noise, "BAND_PIXELS", 1 << 16)  # bands of 288 rows, four of them
    assert np.array_equal(sensor_noise.clean(picture), whole)
    assert not np.array_equal(whole, picture)


def made_photo(path: Path, mode: str) -> None:
    """A 96×128 photo with a made fingerprint, in `mode` (RGB, RGBA, L, I;16), saved as its suffix says."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:96, 0:128]
    shade = 60 + xx + yy * 0.5
    rgb = shot(np.stack([shade, shade * 0.9, shade * 0.8], axis=2), rng.normal(0, 0.01, (96, 128)), rng)
    if mode == "RGBA":
        alpha = np.full((96, 128, 1), 255, np.uint8)
        alpha[:20, :20] = 0
        alpha[20:40, :20] = 128
        Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA").save(path)
    elif mode == "L":
        Image.fromarray(rgb[..., 0]).save(path)
    elif mode == "I;16":
        Image.fromarray(rgb[..., 0].astype(np.uint16) * 257).save(path)
    else:
        Image.fromarray(rgb).save(path)


def write(tmp_path: Path, name: str, mode: str, fmt: str | None, **options: object) -> Path:
    source = tmp_path / "in" / name
    source.parent.mkdir(exist_ok=True)
    if not source.exists():
        made_photo(source, mode)
    out = tmp_path / ("kept" if options.get("sensor_noise") is False else "out")
    (job,) = plan([source], out, fmt)
    report = process(job, no_faces, Options(verify=False, overwrite=True, **options))  # type: ignore[arg-type]
    assert report.status == "done", report.reason
    return Path(report.output or "")


@pytest.mark.parametrize("fmt", [f.name for f in formats.PHOTOS if f.writable])
def test_every_format_is_written_treated(tmp_path: Path, fmt: str) -> None:
    treated = write(tmp_path, "photo.png", "RGB", fmt)
    kept = write(tmp_path, "photo.png", "RGB", fmt, sensor_noise=False)
    with Image.open(treated) as a, Image.open(kept) as b:
        assert a.format == b.format == fmt and a.mode == b.mode and a.size == b.size
        difference = np.abs(np.asarray(a.convert("RGB"), np.int16) - np.asarray(b.convert("RGB"), np.int16))
    assert 0 < difference.mean() < 3  # changed, and only by about the noise's grain


@pytest.mark.parametrize(("name", "mode"), [("grey.png", "L"), ("deep.png", "I;16"), ("alpha.png", "RGBA")])
def test_grey_16_bit_and_alpha_are_written_as_without_the_treatment(tmp_path: Path, name: str, mode: str) -> None:
    treated = write(tmp_path, name, mode, None)
    kept = write(tmp_path, name, mode, None, sensor_noise=False)
    with Image.open(treated) as a, Image.open(kept) as b:
        assert a.mode == b.mode and a.size == b.size
        if mode == "RGBA":
            assert np.array_equal(np.asarray(a)[..., 3], np.asarray(b)[..., 3])
        assert not np.array_equal(np.asarray(a), np.asarray(b))


def test_every_frame_of_a_multi_page_file_is_treated(tmp_path: Path) -> None:
    source = tmp_path / "in" / "pages.tif"
    source.parent.mkdir()
    rng = np.random.default_rng(4)
    pages = [Image.fromarray(shot(scene(rng)[:96, :128], rng.normal(0, 0.01, (96, 128)), rng)) for _ in range(3)]
    pages[0].save(source, save_all=True, append_images=pages[1:])
    (job,) = plan([source], tmp_path / "out", None)
    assert process(job, no_faces, Options(verify=False)).status == "done"
    with Image.open(job.target) as written:
        assert written.n_frames == 3
        for index, page in enumerate(pages):
            written.seek(index)
            assert not np.array_equal(np.asarray(written.convert("RGB")), np.asarray(page))


def made_pages(tmp_path: Path, count: int) -> Path:
    source = tmp_path / "in" / "pages.tif"
    source.parent.mkdir()
    rng = np.random.default_rng(5)
    pages = [Image.fromarray(shot(scene(rng)[:96, :128], rng.normal(0, 0.01, (96, 128)), rng)) for _ in range(count)]
    pages[0].save(source, save_all=True, append_images=pages[1:])
    return source


def test_every_page_of_a_multi_page_file_is_checked(tmp_path: Path) -> None:
    (job,) = plan([made_pages(tmp_path, 2)], tmp_path / "out", None)
    report = process(job, no_faces, Options())
    assert report.status == "done" and not report.flagged, report.reason
    assert report.sensor_noise is not None and report.sensor_noise["left"] is False
    assert report.sensor_noise["frame"] in (0, 1)


def test_a_page_left_untreated_is_flagged_whichever_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    treated: list[int] = []
    real = sensor_noise.treat

    def all_but_the_third(pixels: np.ndarray, rng: np.random.Generator | None = None) -> None:
        treated.append(1)
        if len(treated) != 3:  # a treatment that failed on the third page only
            real(pixels, rng)

    monkeypatch.setattr(sensor_noise, "treat", all_but_the_third)
    (job,) = plan([made_pages(tmp_path, 4)], tmp_path / "out", None)
    report = process(job, no_faces, Options())
    assert report.status == "done" and report.flagged
    assert report.sensor_noise == {"correlation": 1.0, "left": True, "frame": 2}
    assert "frame 2: the camera's sensor noise may be left" in (report.reason or "")


def test_a_long_animation_is_checked_on_evenly_spaced_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sensor_noise, "SAMPLES_BYTES", 3 * 96 * 128)  # room for three frames' samples
    frames = [np.full((96, 128, 3), index, np.uint8) for index in range(7)]
    kept = sensor_noise.samples(frames)
    assert sorted(kept) == [0, 3, 6] and all(kept[i][0, 0] == i for i in kept)
    assert len(sensor_noise.samples(frames[:3])) == 3


def test_off_leaves_the_pixels_exactly_as_read(tmp_path: Path) -> None:
    source = tmp_path / "in" / "photo.png"
    written = write(tmp_path, "photo.png", "RGB", None, sensor_noise=False)
    assert np.array_equal(np.asarray(Image.open(written)), np.asarray(Image.open(source)))  # PNG is lossless


def test_the_check_warns_when_the_noise_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    made_photo(source, "RGB")
    monkeypatch.setattr(sensor_noise, "treat", lambda pixels, rng=None: None)  # a treatment that failed
    (job,) = plan([source], tmp_path / "out", None)
    report = process(job, no_faces, Options())
    assert report.status == "done" and report.flagged
    assert report.sensor_noise == {"correlation": 1.0, "left": True}
    assert "sensor noise may be left" in (report.reason or "")
    refused = process(job, no_faces, Options(strict=True, overwrite=True))
    assert refused.status == "failed" and "--strict" in (refused.reason or "")


def test_the_check_passes_a_treated_output(tmp_path: Path) -> None:
    source = tmp_path / "in" / "photo.png"
    source.parent.mkdir()
    made_photo(source, "RGB")
    (job,) = plan([source], tmp_path / "out", None)
    report = process(job, no_faces, Options())
    assert report.status == "done" and not report.flagged, report.reason
    assert report.sensor_noise is not None and report.sensor_noise["left"] is False
    assert json.loads(json.dumps(report.sensor_noise)) == report.sensor_noise


needs_cameras = pytest.mark.skipif(not CAMERA_NOISE.is_dir(), reason="../shared/data/camera-noise is not here")


@pytest.mark.slow
@needs_cameras
def test_real_photos_linked_before_are_not_after() -> None:
    """The Nikon D70s's fingerprint from its 10 flat fields (1,024-px centre crops, as the bench): its two photos
    that the detector links (PCE 1,761 and 275 in the bench) are not linked once treated and written as JPEG."""
    flats = sorted((CAMERA_NOISE / "flat").glob("Nikon_D70s_0_*"))
    fingerprint = prnu.fingerprint([prnu.centre_crop(load(path), 1024) for path in flats])
    for name in ("Nikon_D70s_0_21853.JPG", "Nikon_D70s_0_22115.JPG"):
        photo = load(CAMERA_NOISE / "natural" / name)
        assert prnu.pce(fingerprint, prnu.centre_crop(jpeg(photo), 1024)) > prnu.LINKED
        assert prnu.pce(fingerprint, prnu.centre_crop(jpeg(sensor_noise.clean(photo)), 1024)) < prnu.LINKED


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))
