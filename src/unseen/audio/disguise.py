"""Voice disguise: a random new pitch and a random new vocal tract for every file, drawn and then forgotten.

The method works on short-time spectra (`stft.py`). Each frame's magnitude is split into a smooth spectral
envelope (cepstral smoothing: the vocal tract's resonances, the formants) and a fine structure (the
harmonics of the voice's pitch, and noise). Both are moved independently:

- the fine structure is scaled in frequency by a random pitch ratio (harmonics of F0 move to harmonics of
  p·F0; phases follow as in a phase vocoder, so the duration is unchanged);
- the envelope is warped by a random monotone map of frequency: a McAdams coefficient α (the VoicePrivacy
  Challenge's LPC pole-angle warp φ → φ^α, applied here to the envelope) composed with a random smooth warp
  in log-frequency (a global formant shift and slow random bends), fading to no warp at high frequencies.

Each frame keeps its energy, so loudness and rhythm are kept; the words, their timing and the manner of
speaking are kept, which is the point. The parameters are drawn once per call from a cryptographic source
unless a generator is given (tests, the bench), and are never returned, stored or logged: running unseen on
one's own recordings of a speaker draws other parameters, which is what makes the disguise irreversible by
knowledge of the method alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np

from .stft import OVERLAP, istft, stft, window_length

# The ranges the parameters are drawn from (see docs/voices.md for how they were chosen).
PITCH_SEMITONES = (2.0, 5.0)  # |shift| of F0, either direction
MCADAMS_ALPHA = (0.75, 1.25)  # φ → φ^α at a 16 kHz reference; 1 is no change
FORMANT_SHIFT = (0.06, 0.14)  # |log| of the global formant scale, either direction
WARP_BENDS = 3  # slow random cosines of log-frequency added to the warp
WARP_BEND_SIZE = 0.05  # each bend's largest |log| frequency change

DESCRIPTION = (
    "spectral disguise drawn per file from a cryptographic source: pitch shifted "
    f"±{PITCH_SEMITONES[0]:g}–{PITCH_SEMITONES[1]:g} semitones, spectral envelope warped by a McAdams coefficient "
    f"{MCADAMS_ALPHA[0]:g}–{MCADAMS_ALPHA[1]:g}, a formant shift of ±{FORMANT_SHIFT[0]:g}–{FORMANT_SHIFT[1]:g} "
    f"(log scale) and {WARP_BENDS} random bends of ≤{WARP_BEND_SIZE:g}"
)

_LIFTER_SECONDS = 0.0015  # quefrencies kept for the envelope: below the period of a 600 Hz voice
_WARP_FULL_HZ, _WARP_NONE_HZ = 4000.0, 8000.0  # the envelope warp fades out between these
_SHIFT_FULL_HZ, _SHIFT_NONE_HZ = 4000.0, 6000.0  # the pitch shift too: fricatives and noise stay in place
_FLOOR = 1e-9


@dataclass(frozen=True)
class Voice:
    """One draw of the disguise's parameters. Lives only inside a call of `disguise` (and in tests/bench)."""

    pitch: float = 1.0  # ratio applied to F0
    alpha: float = 1.0  # McAdams coefficient
    formant: float = 1.0  # global scale of the envelope's frequencies
    bends: tuple[float, ...] = ()  # amplitudes (log) of cos(π·k·u) over u = log-frequency 100 Hz..8 kHz in 0..1


def draw(rng: np.random.Generator) -> Voice:
    """A random voice from the ranges above: shifts have a random direction and a magnitude away from zero."""

    def signed(low: float, high: float) -> float:
        return float(rng.choice((-1.0, 1.0)) * rng.uniform(low, high))

    return Voice(
        pitch=float(2 ** (signed(*PITCH_SEMITONES) / 12)),
        alpha=float(rng.uniform(*MCADAMS_ALPHA)),
        formant=float(np.exp(signed(*FORMANT_SHIFT))),
        bends=tuple(float(b) for b in rng.uniform(-WARP_BEND_SIZE, WARP_BEND_SIZE, WARP_BENDS)),
    )


def disguise(samples: np.ndarray, rate: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """`samples` (channels × n, float32 in [-1, 1]) with every voice disguised; same shape, dtype and length.

    One voice is drawn per call (from a cryptographic seed unless `rng` is given) and used for every channel.
    """
    if rng is None:
        rng = np.random.default_rng(secrets.randbits(128))
    return transform(samples, rate, draw(rng))


def transform(samples: np.ndarray, rate: int, voice: Voice) -> np.ndarray:
    """`samples` changed by one given voice (every channel alike); the output's peak is kept within [-1, 1]."""
    if samples.ndim != 2:
        raise ValueError(f"samples must be channels × n, not of shape {samples.shape}")
    out = np.stack([_channel(channel, rate, voice) for channel in samples]) if samples.shape[1] else samples.copy()
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 1.0:  # a louder formant can push a peak over full scale: lower the whole file, never clip
        out /= peak
    return np.nan_to_num(out).astype(samples.dtype, copy=False)


def _channel(signal: np.ndarray, rate: int, voice: Voice) -> np.ndarray:
    size = window_length(rate, 0.05)
    spectra = stft(signal, size)
    magnitude = np.abs(spectra)
    log_envelope = _log_envelope(magnitude, rate)
    fine = magnitude / np.exp(log_envelope)
    freqs = np.fft.rfftfreq(size, 1 / rate)

    source_env = _envelope_source(freqs, rate, voice)
    target_env = _interp_rows(log_envelope, source_env * size / rate)
    source_fine = _fine_source(freqs, voice.pitch)
    target_fine = _interp_rows(fine, source_fine * size / rate)
    shaped = np.exp(target_env) * target_fine

    # Each frame keeps its energy: loudness and rhythm are the original's.
    before = np.sum(magnitude**2, axis=1, keepdims=True)
    after = np.sum(shaped**2, axis=1, keepdims=True)
    shaped *= np.sqrt(before / np.maximum(after, _FLOOR * _FLOOR))

    phase = _shifted_phase(spectra, freqs, source_fine, size) if voice.pitch != 1.0 else np.angle(spectra)
    out = istft(shaped * np.exp(1j * phase), size, len(signal))
    # Moved phases overlap-add partly out of step, which loses some energy: give the channel its level back.
    wanted, got = float(np.sum(signal.astype(np.float64) ** 2)), float(np.sum(out**2))
    return out * np.sqrt(wanted / got) if got > 0 else out


def _log_envelope(magnitude: np.ndarray, rate: int) -> np.ndarray:
    """Cepstrally smoothed log magnitude: the envelope through the harmonics, per frame."""
    size = 2 * (magnitude.shape[1] - 1)
    cepstrum = np.fft.irfft(np.log(magnitude + _FLOOR), n=size, axis=1)
    keep = max(2, int(rate * _LIFTER_SECONDS))
    cepstrum[:, keep : size - keep + 1] = 0.0
    return np.fft.rfft(cepstrum, axis=1).real


def _fade(freqs: np.ndarray, full: float, none: float) -> np.ndarray:
    """1 below `full` Hz, 0 above `none`, a raised cosine between."""
    t = np.clip((freqs - full) / (none - full), 0.0, 1.0)
    return 0.5 + 0.5 * np.cos(np.pi * t)


def _envelope_source(freqs: np.ndarray, rate: int, voice: Voice) -> np.ndarray:
    """For each output frequency, the input frequency whose envelope it takes (Hz)."""
    f = np.maximum(freqs, 1.0)
    # McAdams: the forward warp φ' = φ^α on φ = π f / 8 kHz; its inverse gives the source.
    reference = 8000.0 / np.pi
    log_ratio = (1 / voice.alpha - 1) * np.log(f / reference)
    log_ratio -= np.log(voice.formant)
    u = np.clip(np.log(f / 100.0) / np.log(80.0), 0.0, 1.0)
    for k, size in enumerate(voice.bends, start=1):
        log_ratio -= size * np.sin(np.pi * k * u)  # zero at both ends of the band: the warp stays anchored
    source = f * np.exp(_fade(f, _WARP_FULL_HZ, _WARP_NONE_HZ) * log_ratio)
    return np.clip(source, 0.0, rate / 2)


def _fine_source(freqs: np.ndarray, pitch: float) -> np.ndarray:
    """For each output frequency, the input frequency whose fine structure (harmonics) it takes (Hz)."""
    fade = _fade(freqs, _SHIFT_FULL_HZ, _SHIFT_NONE_HZ)
    return freqs * (fade / pitch + (1 - fade))


def _interp_rows(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Every row sampled at the same fractional bin positions (linear interpolation, clamped at the ends)."""
    low = np.clip(np.floor(positions).astype(int), 0, rows.shape[1] - 1)
    high = np.minimum(low + 1, rows.shape[1] - 1)
    weight = np.clip(positions - low, 0.0, 1.0)
    return rows[:, low] * (1 - weight) + rows[:, high] * weight


def _shifted_phase(spectra: np.ndarray, freqs: np.ndarray, source: np.ndarray, size: int) -> np.ndarray:
    """Phases for the moved bins: each takes its source bin's instantaneous frequency, scaled, accumulated."""
    hop = size // OVERLAP
    bins = np.arange(spectra.shape[1])
    phase = np.angle(spectra)
    expected = 2 * np.pi * bins * hop / size
    deviation = np.diff(phase, axis=0, prepend=phase[:1]) - expected
    deviation = (deviation + np.pi) % (2 * np.pi) - np.pi
    instant = (expected + deviation) / hop  # radians per sample, per frame and bin
    rate_hz = freqs[1] * size if len(freqs) > 1 else 1.0
    nearest = np.clip(np.rint(source * size / rate_hz).astype(int), 0, spectra.shape[1] - 1)
    ratio = np.where(source > 0, freqs / np.maximum(source, 1e-9), 1.0)
    advance = hop * instant[:, nearest] * ratio
    advance[0] = phase[0, nearest]
    return np.cumsum(advance, axis=0)
