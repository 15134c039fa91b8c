"""Camera noise (issue 24): does a photo written by unseen still link to the camera that took it, and at what cost?

The examiner (bench/prnu.py): each camera's fingerprint from its 10 flat-field photos of ../shared/data/camera-noise,
then the PCE of every natural photo against every camera (> 60: "this camera"). For each removal method tried, on
the same decoded pixels: the method, then a JPEG at unseen's settings (quality 95, 4:2:0: what a default run writes
for a JPEG in), read back and tested; PSNR and SSIM against the same JPEG written without the method; the method's
time beside a JPEG encode of the same photo (an anchor measured in the same run, as the machine is shared). For a
method that resizes or warps, the examiner also tries scales 0.90 to 1.10 in steps of 0.02 and keeps the best.

    .venv/bin/python bench/camera_noise.py                 # the method table on 1,024-px centre crops (~5 min)
    .venv/bin/python bench/camera_noise.py --full          # the shipped method on the full-size photos too
    .venv/bin/python bench/camera_noise.py --runs          # unseen itself, default run with and without
    .venv/bin/python bench/camera_noise.py --command       # the real command, crops and whole photos (~10 min)

`--runs` runs unseen's photo pipeline (default detector, checks on) on each natural photo with and without the
treatment, alternately, and gives the time of each and the PCE, PSNR and SSIM of the outputs. `--command` runs the
command itself (`python -m unseen natural -o OUT`) on all the natural photos, alternately with and without
`--keep-sensor-noise` (kept, replaced, replaced, kept), and tests every output against both cameras, on the 1,024-px
centre crop and on the whole photo (an output of another size resized back to the camera's native size first).
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import prnu
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from unseen import formats  # noqa: E402
from unseen.media import sensor_noise  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "camera-noise"
CROP = 1024
SCALES = np.round(np.arange(0.90, 1.1001, 0.02), 2)
Method = Callable[[np.ndarray], np.ndarray]
SHIPPED = "shipped: wavelet gate τ 49 × brightness, + grain σ 0.7"


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def camera_of(path: Path) -> str:
    return path.name.rsplit("_", 1)[0]


def fingerprints(crop: int | None) -> dict[str, np.ndarray]:
    """Each camera's K from its flat fields (centre crops of `crop` px, or whole with None)."""
    flats: dict[str, list[np.ndarray]] = {}
    for path in sorted((DATA / "flat").glob("*.JPG")):
        pixels = load(path)
        flats.setdefault(camera_of(path), []).append(pixels if crop is None else prnu.centre_crop(pixels, crop))
    return {camera: prnu.fingerprint(images) for camera, images in flats.items()}


def jpeg(pixels: np.ndarray) -> np.ndarray:
    stream = io.BytesIO()
    Image.fromarray(pixels).save(stream, "JPEG", **formats.photo("JPEG").encoder)
    return np.asarray(Image.open(stream).convert("RGB"))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of the grey pictures (Wang et al. 2004: Gaussian window σ 1.5, K1 0.01, K2 0.03)."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float32)

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return float(np.mean((2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def rng() -> np.random.Generator:
    return np.random.default_rng(secrets.randbits(128))


# The methods tried (docs/camera-noise.md says why each).
def add_noise(sigma: float) -> Method:
    def method(pixels: np.ndarray) -> np.ndarray:
        noise = rng().standard_normal(pixels.shape, dtype=np.float32) * sigma
        return np.clip(np.rint(pixels + noise), 0, 255).astype(np.uint8)

    return method


def local_wiener(sigma: float, grain: float = 0.0) -> Method:
    """The pixel-domain local Wiener (Lee) filter over 3×3 on each channel, then optional fresh noise."""

    def method(pixels: np.ndarray) -> np.ndarray:
        x = pixels.astype(np.float32)
        mean = cv2.blur(x, (3, 3))
        var = cv2.blur(x * x, (3, 3)) - mean * mean
        out = mean + np.maximum(var - sigma * sigma, 0) / np.maximum(var, 1e-6) * (x - mean)
        if grain:
            out += rng().standard_normal(out.shape, dtype=np.float32) * grain
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    return method


def pyramid(levels: int, grain: float = 0.0, sigma: float = 3.0) -> Method:
    """The first treatment: a Wiener shrinkage of each band of a Laplacian pyramid (the check's filter), subtracted."""

    def method(pixels: np.ndarray) -> np.ndarray:
        luma = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
        change = sensor_noise._noise(luma, levels, sigma)
        if grain:
            change -= rng().standard_normal(change.shape, dtype=np.float32) * grain
        return cv2.subtract(pixels, cv2.merge([change, change, change]), dtype=cv2.CV_8U)

    return method


def wavelet_wiener(pixels: np.ndarray) -> np.ndarray:
    """The examiner's own noise estimate of the luminance (db4, 4 levels, σ 3), subtracted, + grain σ 0.7."""
    luma = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    change = prnu._channel_noise(luma) - (rng().random(luma.shape, dtype=np.float32) * 2 - 1) * 0.7 * 3**0.5
    return cv2.subtract(pixels, cv2.merge([change, change, change]), dtype=cv2.CV_8U)


def gate(tau: float, brightness: float) -> Method:
    """The shipped treatment with another threshold, or none growing with the brightness (0)."""

    def method(pixels: np.ndarray) -> np.ndarray:
        saved = sensor_noise.TAU, sensor_noise.BRIGHTNESS
        sensor_noise.TAU, sensor_noise.BRIGHTNESS = tau, brightness
        try:
            return sensor_noise.clean(pixels)
        finally:
            sensor_noise.TAU, sensor_noise.BRIGHTNESS = saved

    return method


def global_scale(pixels: np.ndarray) -> np.ndarray:
    """The content shrunk to 0.96 and padded back (a global geometric change)."""
    height, width = pixels.shape[:2]
    small = cv2.resize(pixels, (round(width * 0.96), round(height * 0.96)), interpolation=cv2.INTER_AREA)
    out = np.zeros_like(pixels)
    top, left = (height - small.shape[0]) // 2, (width - small.shape[1]) // 2
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return out


def local_warp(amplitude: float, spacing: int = 64) -> Method:
    """A smooth random displacement of up to `amplitude` px, different every `spacing` px (a non-rigid warp)."""

    def method(pixels: np.ndarray) -> np.ndarray:
        height, width = pixels.shape[:2]
        grid = (height // spacing + 2, width // spacing + 2)
        draw = rng()
        dx, dy = (
            cv2.resize(draw.uniform(-amplitude, amplitude, grid).astype(np.float32), (width, height), cv2.INTER_CUBIC)
            for _ in range(2)
        )
        xx, yy = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        return cv2.remap(pixels, xx + dx, yy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    return method


METHODS: dict[str, tuple[Method, bool]] = {  # name: (method, whether it resizes or warps)
    "none (a plain default run)": (lambda p: p, False),
    "fresh noise σ 1.5": (add_noise(1.5), False),
    "fresh noise σ 3": (add_noise(3.0), False),
    "local Wiener 3×3, σ 3": (local_wiener(3.0), False),
    "local Wiener 3×3, σ 3, + noise σ 1.5": (local_wiener(3.0, 1.5), False),
    "global scale 0.96 (padded)": (global_scale, True),
    "local warp ±0.5 px / 64 px": (local_warp(0.5), True),
    "local warp ±1 px / 64 px": (local_warp(1.0), True),
    "pyramid σ 3, 1 level": (pyramid(1), False),
    "pyramid σ 3, 2 levels": (pyramid(2), False),
    "pyramid σ 3, 3 levels (no grain)": (pyramid(3), False),
    "pyramid σ 3, 3 levels, + grain σ 0.7": (pyramid(3, 0.7), False),
    "pyramid σ 3.5, 3 levels, + grain σ 0.7 (the second setting)": (pyramid(3, 0.7, 3.5), False),
    "wavelet Wiener σ 3 (the examiner's estimate), + grain σ 0.7": (wavelet_wiener, False),
    "wavelet gate τ 36, + grain σ 0.7": (gate(36.0, 0.0), False),
    "wavelet gate τ 49, + grain σ 0.7": (gate(49.0, 0.0), False),
    "wavelet gate τ 64, + grain σ 0.7": (gate(64.0, 0.0), False),
    "wavelet gate τ 36 × brightness, + grain σ 0.7": (gate(36.0, 1.0), False),
    "wavelet gate τ 64 × brightness, + grain σ 0.7": (gate(64.0, 1.0), False),
    SHIPPED: (sensor_noise.clean, False),
}


def best_pce(k: np.ndarray, written: np.ndarray, crop: int | None, search: bool) -> float:
    """The examiner's PCE: at scale 1, and with `search` the best over SCALES (the photo resized by 1/s about its
    centre, so that content shrunk by s comes back to the sensor's grid)."""
    found = prnu.pce(k, _cut(written, crop, k.shape))
    if search:
        for scale in SCALES:
            if scale != 1.0:
                height, width = written.shape[:2]
                size = (round(width / scale), round(height / scale))
                resized = cv2.resize(written, size, interpolation=cv2.INTER_LINEAR)
                found = max(found, prnu.pce(k, _cut(resized, crop, k.shape)))
    return found


def _cut(pixels: np.ndarray, crop: int | None, shape: tuple[int, ...]) -> np.ndarray:
    if crop is not None:
        return prnu.centre_crop(pixels, crop)
    height, width = shape[:2]
    top, left = (pixels.shape[0] - height) // 2, (pixels.shape[1] - width) // 2
    padded = np.zeros((height, width, 3), np.uint8)
    part = pixels[max(0, top) : max(0, top) + height, max(0, left) : max(0, left) + width]
    padded[: part.shape[0], : part.shape[1]] = part
    return padded


def method_table(names: list[str], crop: int | None) -> None:
    ks = cached_fingerprints(crop)
    photos = [(path, load(path)) for path in sorted((DATA / "natural").glob("*.JPG"))]
    print("| method | PCE with its camera (each photo) | highest with the other | PSNR dB (min) | SSIM (min) | time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        method, moves = METHODS[name]
        own, other, quality, likeness, ratio = [], [], [], [], []
        for path, pixels in photos:
            plain = jpeg(pixels)
            started = time.perf_counter()
            treated = method(pixels)
            spent = time.perf_counter() - started
            started = time.perf_counter()
            cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])
            ratio.append(spent / (time.perf_counter() - started))
            written = jpeg(treated)
            camera = camera_of(path)
            own.append(best_pce(ks[camera], written, crop, moves))
            other.append(max(best_pce(k, written, crop, moves) for c, k in ks.items() if c != camera))
            quality.append(psnr(written, plain))
            likeness.append(ssim(written, plain))
        pces = ", ".join(f"{p:,.0f}" for p in own)
        print(
            f"| {name} | {pces} | {max(other):.0f} | {min(quality):.1f} | {min(likeness):.3f} "
            f"| {np.median(ratio):.2f}× a JPEG encode |",
            flush=True,
        )


def unseen_runs() -> None:
    """unseen's own pipeline, default settings, on each natural photo with and without the treatment."""
    from unseen.detectors.presets import Quality, build_detector
    from unseen.paths import plan
    from unseen.photo import Options, process
    from unseen.verify.photo_check import Verifier

    ks = fingerprints(CROP)
    detector, verifier = build_detector(Quality.BALANCED), Verifier()
    out = REPO / "bench" / ".work" / "camera-noise"
    print("| photo | PCE without → with | PSNR dB | SSIM | seconds without / with | check (correlation) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in sorted((DATA / "natural").glob("*.JPG")):
        written, seconds, reports = {}, {}, {}
        for on in (False, True):
            (job,) = plan([path], out / ("on" if on else "off"), None)
            report = process(job, detector, Options(overwrite=True, sensor_noise=on), verifier)
            written[on], seconds[on], reports[on] = load(Path(report.output or "")), report.seconds, report
        k = ks[camera_of(path)]
        before, after = (prnu.pce(k, prnu.centre_crop(written[on], CROP)) for on in (False, True))
        print(
            f"| {path.name} | {before:,.0f} → {after:,.0f} | {psnr(written[True], written[False]):.1f} "
            f"| {ssim(written[True], written[False]):.3f} | {seconds[False]:.2f} / {seconds[True]:.2f} "
            f"| {reports[True].sensor_noise} |",
            flush=True,
        )


def cached_fingerprints(crop: int | None) -> dict[str, np.ndarray]:
    """`fingerprints`, kept in bench/.work (derived from the data: never committed) as a whole photo's takes minutes."""
    folder = REPO / "bench" / ".work" / "camera-noise"
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted({camera_of(path) for path in (DATA / "flat").glob("*.JPG")})
    paths = {camera: folder / f"k-{crop or 'full'}-{camera}.npy" for camera in names}
    if not all(path.exists() for path in paths.values()):
        for camera, k in fingerprints(crop).items():
            np.save(paths[camera], k)
    return {camera: np.load(path) for camera, path in paths.items()}


def command_runs(rounds: int) -> None:
    """The real command on every natural photo, alternately with and without the treatment; then each output
    against each camera (crop and whole), PSNR and SSIM treated against kept, the check's finding, the time.
    With no rounds, the outputs of the last run are tested again."""
    import json
    import subprocess

    out = REPO / "bench" / ".work" / "camera-noise" / "command"
    seconds: dict[bool, list[float]] = {False: [], True: []}
    order = [on for index in range(rounds) for on in ((False, True) if index % 2 == 0 else (True, False))]
    for on in order:
        target = out / ("replaced" if on else "kept")
        report = out / f"report-{'replaced' if on else 'kept'}.json"
        flags = [] if on else ["--keep-sensor-noise"]
        command = [sys.executable, "-m", "unseen", str(DATA / "natural"), "-o", str(target), "-q", "--overwrite"]
        started = time.perf_counter()
        subprocess.run([*command, *flags, "--report", str(report)], check=True)
        seconds[on].append(time.perf_counter() - started)
    load = os.getloadavg()[0]
    if rounds:
        ratio = sum(seconds[True]) / sum(seconds[False])
        print(f"seconds kept {seconds[False]}, replaced {seconds[True]}: {ratio:.3f}×, load {load:.1f}")
    files = json.loads((out / "report-replaced.json").read_text())["files"]
    checks = {Path(f["input"]).name: f.get("sensor_noise") for f in files}
    print("| photo | PCE crop kept → replaced | PCE whole kept → replaced | other (max) | PSNR dB | SSIM | check |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    ks = {size: cached_fingerprints(size) for size in (CROP, None)}
    for path in sorted((DATA / "natural").glob("*.JPG")):
        written = {on: load_output(out / ("replaced" if on else "kept"), path) for on in (False, True)}
        camera, found = camera_of(path), {}
        for size, on in ((size, on) for size in (CROP, None) for on in (False, True)):
            pixels = native(written[on], ks[None][camera].shape)
            tested = prnu.centre_crop(pixels, CROP) if size else pixels
            w = prnu.residual(tested)
            found[size, on] = {c: prnu.pce(k, tested, w) for c, k in ks[size].items()}
        own = [f"{found[size, False][camera]:,.0f} → {found[size, True][camera]:,.0f}" for size in (CROP, None)]
        other = max(v for key, pces in found.items() for c, v in pces.items() if c != camera)
        print(
            f"| {path.name} | {own[0]} | {own[1]} | {other:.0f} | {psnr(written[True], written[False]):.1f} "
            f"| {ssim(written[True], written[False]):.3f} | {checks.get(path.name)} |",
            flush=True,
        )
    print(f"# load {os.getloadavg()[0]:.1f} at the end")


def load_output(folder: Path, source: Path) -> np.ndarray:
    (found,) = [p for p in folder.rglob("*") if p.is_file() and p.stem == source.stem]
    return load(found)


def native(pixels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The examiner's first step: an output of another size resized back to the camera's native size."""
    if pixels.shape[:2] == shape[:2]:
        return pixels
    return cv2.resize(pixels, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="whole photos (by default the plain and shipped methods)")
    parser.add_argument("--runs", action="store_true", help="unseen's own runs, with and without the treatment")
    parser.add_argument("--command", action="store_true", help="the real command, with and without the treatment")
    parser.add_argument("--rounds", type=int, default=2, help="--command: rounds of runs (0: test the last outputs)")
    parser.add_argument("--method", action="append", choices=sorted(METHODS), help="only these methods")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no camera-noise data at {DATA}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}")
    if args.command:
        command_runs(args.rounds)
    elif args.runs:
        unseen_runs()
    elif args.full:
        method_table(args.method or [next(iter(METHODS)), SHIPPED], None)
    else:
        method_table(args.method or list(METHODS), CROP)


if __name__ == "__main__":
    main()
