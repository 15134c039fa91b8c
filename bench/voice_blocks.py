"""The disguise run in blocks (src/unseen/audio/blocks.py) against the same voice run on the whole signal.

40 s of development speech (../shared/data/voices, three recordings one after another) over a tone-and-noise
background at 48 kHz, one voice drawn with a fixed seed: disguise.transform on the whole signal, and in blocks
with the shipped fades (sum to one) and with equal-power fades. Printed: the level in 20-ms windows around
each seam, relative to the input's, for each; how far the whole rendering's and the blocks' levels stray from
the input's in 0.5-s windows; and the peak memory of disguise() on the whole signal against in blocks.

    .venv/bin/python bench/voice_blocks.py     # about a minute on 2 busy cores
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from unseen.audio import blocks  # noqa: E402
from unseen.audio.disguise import draw, transform  # noqa: E402

VOICES = ROOT.parent / "shared" / "data" / "voices"
RATE = 48000
SECONDS = 40.0


def sound() -> np.ndarray:
    pieces: list[np.ndarray] = []
    for path in sorted(VOICES.glob("*.flac"))[:3]:
        with av.open(str(path)) as container:
            resampler = av.AudioResampler("flt", "mono", RATE)
            pieces += [f.to_ndarray().reshape(-1) for fr in container.decode(audio=0) for f in resampler.resample(fr)]
    if not pieces:
        sys.exit(f"no voices in {VOICES}")
    n = round(SECONDS * RATE)
    voice = np.concatenate(pieces)[:n]
    voice = np.pad(voice, (0, n - voice.size))
    t = np.arange(n) / RATE
    back = 0.03 * np.sin(2 * np.pi * 220 * t) + 0.005 * np.random.default_rng(0).standard_normal(n)
    return (voice + back).astype(np.float32)[None, :]


def levels(y: np.ndarray, at: float, windows: int = 5) -> np.ndarray:
    w, i = RATE // 50, round(at * RATE)
    return np.array(
        [10 * np.log10(np.mean(y[0, i + k * w : i + (k + 1) * w] ** 2) + 1e-12) for k in range(-windows, windows)]
    )


def window_levels(y: np.ndarray, step: int = RATE // 2) -> np.ndarray:
    return np.array(
        [10 * np.log10(np.mean(y[0, i : i + step] ** 2) + 1e-12) for i in range(0, y.shape[1] - step, step)]
    )


def equal_power(size: int) -> tuple[np.ndarray, np.ndarray]:
    angle = np.linspace(0, np.pi / 2, size)
    return np.sin(angle).astype(np.float32), np.cos(angle).astype(np.float32)


def peak_memory(mode: str) -> float:
    """Peak RSS (MiB) above the baseline of disguising SECONDS of stereo noise, whole or in blocks."""
    code = (
        f"import sys, resource, numpy as np; sys.path.insert(0, {str(ROOT / 'src')!r}); "
        "from unseen.audio import blocks, disguise; "
        f"x = (0.1 * np.random.default_rng(0).standard_normal((2, {round(SECONDS * RATE)}))).astype(np.float32); "
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        f"y = disguise.disguise(x, {RATE}) if {mode == 'whole'} else blocks.disguise_in_blocks(x, {RATE}); "
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    # First, while this process is small: a child's peak RSS on Linux starts from its parent's at the fork.
    memory = f"whole {peak_memory('whole'):.0f} MiB, in blocks {peak_memory('blocks'):.0f} MiB"
    x = sound()
    voice = draw(np.random.default_rng(7))
    whole = transform(x, RATE, voice)
    shipped = blocks.in_blocks(x, RATE, lambda block: transform(block, RATE, voice))
    fades, blocks._fades = blocks._fades, equal_power
    power = blocks.in_blocks(x, RATE, lambda block: transform(block, RATE, voice))
    blocks._fades = fades
    for seam in np.arange(blocks.BLOCK, SECONDS - 1, blocks.BLOCK):
        base = levels(x, seam)
        for name, y in (("whole", whole), ("blocks, fades summing to 1", shipped), ("blocks, equal power", power)):
            print(
                f"seam at {seam:g} s, {name}: level - input's, dB, 20-ms windows: {np.round(levels(y, seam) - base, 1)}"
            )
    for name, y in (("whole", whole), ("blocks", shipped)):
        diff = window_levels(y) - window_levels(x)
        print(
            f"{name} against the input, 0.5-s windows: level differs by {np.min(diff):.1f} to {np.max(diff):.1f} dB "
            f"(median of |difference| {np.median(np.abs(diff)):.1f} dB)"
        )
    print(f"peak memory above baseline, {SECONDS:g} s of 48 kHz stereo ({x.nbytes * 2 / 2**20:.0f} MiB): {memory}")
    print(f"CPU {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.0f} s")


if __name__ == "__main__":
    main()
