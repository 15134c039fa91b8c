"""Voice disguise: a random new pitch and a random new vocal tract for every file, drawn and then forgotten.

The method works on short-time spectra (`stft.py`). Each frame's magnitude is split into a smooth spectral
envelope (cepstral smoothing: the vocal tract's resonances, the formants) and a fine structure (the
harmonics of the voice's pitch, and noise). Both are moved independently:

- the fine structure is scaled in frequency by a pitch ratio (harmonics of F0 move to harmonics of p·F0;
  phases follow as in a phase vocoder, so the duration is unchanged). The ratio takes the file's median F0
  (`profile`: its voiced frames) to a target drawn from one speaker-independent range, so the output's pitch
  no longer tells whether the speaker's voice was high or low, as a shift relative to it did (measured:
  docs/voices.md); without a voice found, a random shift;
- the envelope is warped by a random monotone map of frequency: a McAdams coefficient α (the VoicePrivacy
  Challenge's LPC pole-angle warp φ → φ^α, applied here to the envelope) composed with a random smooth warp
  in log-frequency (a global formant shift and slow random bends), fading to no warp at high frequencies;
- above a split drawn per file (UPPER_SPLIT_HZ), each frame's warped envelope is made a straight line in
  log-frequency (`upper.py`: its level and tilt kept): the higher formants' positions and shapes, which a
  monotone warp keeps and a speaker network reads, are gone;
- a random smooth equaliser colours the envelope, and the pitch ratio and formant scale drift slowly over
  the file (so no single fixed inverse exists even for one file).

Each frame keeps its energy, so loudness and rhythm are kept; the words, their timing and the manner of
speaking are kept, which is the point. The parameters are drawn once per call from a cryptographic source
unless a generator is given (tests, the bench), and are never returned, stored or logged: running unseen on
one's own recordings of a speaker draws other parameters, which is what makes the disguise irreversible by
knowledge of the method alone.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import scipy.fft  # type: ignore[import-untyped]  # scipy ships no type information
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import uniform_filter1d  # type: ignore[import-untyped]

from . import excitation, upper
from .mute import merged
from .stft import OVERLAP, istft, stft, window_length
from .vad import Span

# The ranges the parameters are drawn from (docs/voices.md: how they were chosen, and what else was tried).
PITCH_SEMITONES = (2.0, 4.0)  # |shift| of F0, either direction
MCADAMS_ALPHA = (0.8, 1.2)  # φ → φ^α at a 16 kHz reference; 1 is no change
# |log| of the global formant scale, either direction (25-46% up, 20-31% down); (0.15, 0.25) until 2026-12-06 19:35
# UTC: 1.5x as far, with the smoother envelope below, moved the networks in no choice farther (docs/voices.md)
FORMANT_SHIFT = (0.225, 0.375)
WARP_BENDS = 3  # slow random sines of log-frequency added to the warp
WARP_BEND_SIZE = 0.05  # each bend's largest |log| frequency change
COLOUR_BANDS = 4  # slow random sines of log-frequency in the equaliser
COLOUR_DB = 6.0  # each one's largest gain, dB
WOBBLE_SEMITONES = 1.5  # the pitch drifts this far (two slow sines, 1.5-5 s periods) around its shift
DRIFT = 0.05  # the formant scale drifts this far (|log|) around its shift
# Where a voice is found, its median F0 and its envelope's centroid are taken to targets drawn per file from
# these speaker-independent ranges (log-uniform) instead of being shifted relative to the speaker's own.
TARGET_F0_HZ = (110.0, 220.0)
TARGET_CENTROID_HZ = (340.0, 590.0)  # the 5th-95th percentiles of 64 dev speakers' centroids
PITCH_AWAY, FORMANT_AWAY = 0.0, 0.0  # the least distance of a target from the file's own (semitones, |log|)
PITCH_MOST, FORMANT_MOST = 12.0, 0.3  # the largest pitch shift (semitones) and formant scale (|log|; centroid targets)
FLATTEN = 0.0  # the share of the intonation's range removed (0: kept)
EVEN = 0.0  # the share of the speaker's long-term spectral balance removed (0: kept)
SOURCE = True  # the speaker's own excitation replaced by a synthetic one drawn per file (excitation.py)
# Above a split drawn uniformly in this range (Hz) per file, the warped envelope becomes a line in log-frequency
# (upper.py; docs/voices.md, "What a monotone warp keeps of the envelope"); (0.0, 0.0) turns it off.
UPPER_SPLIT_HZ = (2500.0, 3500.0)

DESCRIPTION = (
    "spectral disguise with parameters drawn per file from a cryptographic source: the voice's median pitch "
    f"taken to a target drawn in {TARGET_F0_HZ[0]:g}–{TARGET_F0_HZ[1]:g} Hz (a shift of at most ±{PITCH_MOST:g} "
    f"semitones, drifting ±{WOBBLE_SEMITONES:g}; where no voice is found, a shift of "
    f"±{PITCH_SEMITONES[0]:g}–{PITCH_SEMITONES[1]:g} semitones)"
    + (f", its intonation's range narrowed by {FLATTEN:.0%}" if FLATTEN else "")
    + f", the spectral envelope warped by a McAdams coefficient {MCADAMS_ALPHA[0]:g}–{MCADAMS_ALPHA[1]:g}, formants "
    f"scaled by ±{FORMANT_SHIFT[0]:g}–{FORMANT_SHIFT[1]:g} (log; drifting ±{DRIFT:g}) with {WARP_BENDS} random "
    f"bends of ≤{WARP_BEND_SIZE:g}"
    + (
        f", then above a split drawn in {UPPER_SPLIT_HZ[0] / 1000:g}–{UPPER_SPLIT_HZ[1] / 1000:g} kHz made a "
        "straight line in log-frequency (its level and tilt kept, the higher formants' positions and shapes gone)"
        if UPPER_SPLIT_HZ[1] > 0
        else ""
    )
    + (f", {EVEN:.0%} of the voice's long-term spectral balance evened" if EVEN else "")
    + f", and a random equaliser of {COLOUR_BANDS} bands of ≤{COLOUR_DB:g} dB"
    + (
        "; the voice's own source replaced by a synthetic one (a pulse train at the new pitch, its intonation's "
        f"range scaled by {excitation.RANGE[0]:g}–{excitation.RANGE[1]:g}, noise by voicing, a random tilt of "
        f"±{excitation.TILT_DB[1]:g} dB/octave, breathiness {excitation.BREATH[0]:g}–{excitation.BREATH[1]:g}, "
        "jitter and dispersion)"
        if SOURCE
        else ""
    )
)

_LIFTER_SECONDS = 0.0015  # quefrencies kept for the profile's envelope: below the period of a 600 Hz voice
# The envelope the transform moves: smoother than the profile's (1 ms of quefrency; 1.5 until 2026-12-06 19:35 UTC):
# its detail is the speaker's own, and speaker networks read it. ENVELOPE_FRAMES > 1 averages it over that many
# frames (5: 62 ms): measured, not shipped, as it cost pocketsphinx 9 points of words for nothing a network in no
# choice read after the choice (docs/voices.md, "The envelope smoother, the formants farther").
ENVELOPE_LIFTER_SECONDS = 0.001
ENVELOPE_FRAMES = 1
# The envelope warp and the pitch shift fade out between these: above them (cymbals, hiss) nothing moves. The
# verifier hears up to 8 kHz: warps that faded from 4 kHz left its top octave untouched and measured worse.
_WARP_FULL_HZ, _WARP_NONE_HZ = 7000.0, 11000.0
_SHIFT_FULL_HZ, _SHIFT_NONE_HZ = 7000.0, 9000.0
_FLOOR = 1e-9
_BLOCK_SECONDS, _CROSSFADE_SECONDS = 15.0, 0.1
# Seconds around each span of speech heard in which the synthetic source may still be voiced. The detector's span
# edges fall on its 32-ms frames and the disguise's frames are 50 ms long (a frame centred 25 ms outside a span
# still holds speech); on 83 clean dev voices 0.17% of the voiced frames' weight lay within 0.05 s outside the
# spans, 0.02% in the next 0.05 s and 0.04% farther: 0.1 s keeps all but that, and lets a pause's noise become
# buzz only where it touches speech (docs/voices.md, "Voiced only where speech is heard").
SPEECH_MARGIN_SECONDS = 0.1
# The profile (median F0, envelope centroid) of a file's voiced frames.
_F0_RANGE_HZ = (60.0, 400.0)  # periods searched
_PITCH_BAND_HZ = 2000.0  # the autocorrelation of the spectrum below this (the formants above blur periods)
_VOICED_STRENGTH = 0.6  # normalised autocorrelation at the period for a frame to count as voiced
_OCTAVE_SHARE = 0.9  # the shortest period whose correlation is this share of the best one is taken
_PROFILE_LOUD = 0.01  # and its energy within 20 dB of the loud frames' (95th percentile)
_PROFILE_FRAMES, _PROFILE_MIN_VOICED = 3000, 10  # frames looked at (at most, spread), voiced frames needed
_CENTROID_BAND = (200.0, 5000.0)  # where the envelope's centroid is taken (Hz)
_PROFILE_FREQS = np.geomspace(80.0, 8000.0, 128)  # the mean envelope is kept on this grid


@dataclass(frozen=True)
class Voice:
    """One draw of the disguise's parameters. Lives only inside a call of `disguise` (and in tests/bench)."""

    pitch: float = 1.0  # ratio applied to F0
    alpha: float = 1.0  # McAdams coefficient
    formant: float = 1.0  # global scale of the envelope's frequencies
    bends: tuple[float, ...] = ()  # amplitudes (log) of cos(π·k·u) over u = log-frequency 100 Hz..8 kHz in 0..1
    breath: float = 0.0  # share of the fine structure's power replaced by noise (0: none, 1: a whisper)
    colour: tuple[float, ...] = ()  # a smooth random equaliser: dB amplitudes of sin(π·k·u), as bends
    wobble: float = 0.0  # semitones the pitch ratio drifts by, slowly, over the file
    drift: float = 0.0  # |log| the formant scale drifts by, slowly, over the file
    seed: int = 0  # the seed of the noise (breath) and of the drifts' courses
    flatten: float = 0.0  # share (in log) of each voiced frame's F0 deviation from centre_f0 removed
    centre_f0: float = 0.0  # the file's median F0 (Hz), which flattening pulls towards
    evening: tuple[float, ...] = ()  # log gains on _PROFILE_FREQS evening the file's long-term balance
    source: excitation.Source | None = None  # a synthetic excitation instead of the moved fine structure
    split_hz: float = 0.0  # above this the warped envelope is made a line in log-frequency (upper.py; 0: not)
    # A change of the warped log envelope (frames × bins, the bins' Hz): the seam the bench's candidates use
    # (tools/candidates/structure.py); nothing in unseen sets it.
    reshape: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # times (s) → how far the voice lies from the values above there (Offsets): the seam of
    # tools/candidates/wander.py (a voice that changes along the file); nothing in unseen sets it.
    course: Course | None = None


def draw(rng: np.random.Generator, found: Profile | None = None, targets: Targets | None = None) -> Voice:
    """A random voice: with a profile of the file's voice, its pitch and formant scale take the median F0 and
    the envelope's centroid to targets drawn from speaker-independent ranges; without one (no voice found:
    music, noise), shifts in a random direction by a magnitude away from zero. The upper band's split is drawn
    last of all, whichever way the rest went: a seeded generator gives every other parameter as it did before
    the split existed (2026-12-06), and `Targets(split_hz=None)` draws no split (the bench's -noband anchors:
    the draws of before, to the bit, the same generator left where it was left then)."""
    targets = targets or Targets()
    voice = _draw_voice(rng, found, targets)
    if targets.split_hz is None:
        return voice
    return replace(voice, split_hz=float(rng.uniform(*targets.split_hz)))  # the last draw: keep it last


def _draw_voice(rng: np.random.Generator, found: Profile | None, targets: Targets) -> Voice:
    """`draw` but for the upper band's split (every parameter drawn before it)."""
    relative = _draw_relative(rng)
    if found is None:
        return relative
    semitone = np.log(2) / 12
    f0 = _target(rng, targets.f0_hz, np.log(found.f0), targets.pitch_away * semitone)
    pitch = float(np.exp(np.clip(f0 - np.log(found.f0), -targets.pitch_most * semitone, targets.pitch_most * semitone)))
    relative = replace(relative, flatten=targets.flatten, centre_f0=found.f0)
    if targets.centroid_hz is None:  # the formants shifted relatively, as without a profile
        return _sourced_draw(rng, replace(relative, pitch=pitch), targets)
    centre = _target(rng, targets.centroid_hz, found.centroid, targets.formant_away)
    formant = _solve_formant(found, relative, centre)
    formant = float(np.clip(formant, np.exp(-targets.formant_most), np.exp(targets.formant_most)))
    voice = replace(relative, pitch=pitch, formant=formant)
    return _sourced_draw(rng, replace(voice, evening=_evening(found, voice, targets.even)), targets)


def _sourced_draw(rng: np.random.Generator, voice: Voice, targets: Targets) -> Voice:
    """`voice` with a synthetic excitation drawn, where `targets` asks for one."""
    return replace(voice, source=excitation.draw(rng)) if targets.source else voice


@dataclass(frozen=True)
class Offsets:
    """Per frame, how far a voice that changes along the file lies from its `Voice`'s values (each array
    frames × 1, or frames × bends / bands). Measured, not shipped: tools/candidates/wander.py draws them."""

    pitch: np.ndarray  # log ratio
    formant: np.ndarray  # log scale
    alpha: np.ndarray  # added to α
    tilt: np.ndarray  # dB/octave added to the source's tilt
    breath: np.ndarray  # added to the source's breathiness
    range: np.ndarray  # added to the source's intonation range
    bends: np.ndarray  # frames × bends, log, added to the bends
    colour: np.ndarray  # frames × bands, dB, added to the equaliser


Course = Callable[[np.ndarray], Offsets]


@dataclass(frozen=True)
class Targets:
    """The speaker-independent ranges a file's voice is taken to (Hz, drawn log-uniformly), and limits."""

    f0_hz: tuple[float, float] = TARGET_F0_HZ
    centroid_hz: tuple[float, float] | None = None  # None: formants scaled relatively (FORMANT_SHIFT)
    pitch_away: float = PITCH_AWAY  # the target is at least this far (semitones) from the file's own F0
    formant_away: float = FORMANT_AWAY  # and its centroid at least this far (|log|) from the file's own
    pitch_most: float = PITCH_MOST  # the pitch ratio never exceeds this many semitones either way
    formant_most: float = FORMANT_MOST  # nor the formant scale this |log|
    flatten: float = FLATTEN  # the share of the intonation's range (F0 around its median, in log) removed
    even: float = EVEN  # the share of the long-term spectral balance's deviations from a line removed
    source: bool = SOURCE  # a synthetic excitation (excitation.draw) instead of the speaker's own, moved
    split_hz: tuple[float, float] | None = UPPER_SPLIT_HZ  # the upper band's split (Hz; None: none drawn)


def _target(rng: np.random.Generator, span: tuple[float, float], own: float, away: float) -> float:
    """A log-uniform draw in `span` (Hz), as log Hz, at least `away` from `own` (log Hz) where it can be."""
    low, high = np.log(span[0]), np.log(span[1])
    value = float(rng.uniform(low, high))
    for _ in range(64):  # rejection: the span minus a window around `own`
        if abs(value - own) >= away:
            return value
        value = float(rng.uniform(low, high))
    return low if abs(low - own) > abs(high - own) else high


def _solve_formant(found: Profile, voice: Voice, target: float) -> float:
    """The global formant scale that puts the centroid of the file's mean envelope, warped by `voice` (its
    McAdams coefficient and bends), at `target` (log Hz). The equaliser is left out: it is speaker-independent
    noise on the centroid, and compensating it swung the formant scale far. The centroid moves by about half
    the log scale (energy enters and leaves the band at its edges): a few secant steps."""

    def miss(log_scale: float) -> float:
        return _centroid(_warped(found, replace(voice, formant=float(np.exp(log_scale))))) - target

    a, b = 0.0, target - found.centroid
    fa, fb = miss(a), miss(b)
    for _ in range(6):
        if abs(fb) < 1e-3 or fb == fa:
            break
        a, b, fa = b, b - fb * (b - a) / (fb - fa), fb
        b = float(np.clip(b, -1.0, 1.0))
        fb = miss(b)
    return float(np.exp(b))


def _warped(found: Profile, voice: Voice) -> np.ndarray:
    """The file's mean log envelope (on _PROFILE_FREQS) as `voice` warps it (its global scale, no drift)."""
    source = _envelope_source(_PROFILE_FREQS, 48000, voice.alpha, voice.bends, np.array([[voice.formant]]))[0]
    return np.interp(np.log(np.maximum(source, 1.0)), np.log(_PROFILE_FREQS), found.envelope)


def _evening(found: Profile, voice: Voice, share: float) -> tuple[float, ...]:
    """Log gains on _PROFILE_FREQS that remove `share` of the warped mean envelope's deviations from a straight
    line in log-frequency (the speaker's long-term spectral balance, a cue of its own), 100 Hz-7 kHz."""
    if share <= 0:
        return ()
    warped = _warped(found, voice)
    inside = (_PROFILE_FREQS >= 100.0) & (_PROFILE_FREQS <= 7000.0)
    x = np.log(_PROFILE_FREQS)
    slope, offset = np.polyfit(x[inside], warped[inside], 1)
    gains = -share * (warped - (slope * x + offset))
    return tuple(float(g) for g in np.where(inside, gains, 0.0))


def _draw_relative(rng: np.random.Generator) -> Voice:
    """A random voice from the relative ranges above: shifts have a random direction and a magnitude away from zero."""

    def signed(low: float, high: float) -> float:
        return float(rng.choice((-1.0, 1.0)) * rng.uniform(low, high))

    return Voice(
        pitch=float(2 ** (signed(*PITCH_SEMITONES) / 12)),
        alpha=float(rng.uniform(*MCADAMS_ALPHA)),
        formant=float(np.exp(signed(*FORMANT_SHIFT))),
        bends=tuple(float(b) for b in rng.uniform(-WARP_BEND_SIZE, WARP_BEND_SIZE, WARP_BENDS)),
        colour=tuple(float(c) for c in rng.uniform(-COLOUR_DB, COLOUR_DB, COLOUR_BANDS)),
        wobble=WOBBLE_SEMITONES,
        drift=DRIFT,
        seed=int(rng.integers(2**63)),
    )


@dataclass(frozen=True)
class Profile:
    """What the file's voice is like, from its voiced frames: where the disguise starts from (never stored)."""

    f0: float  # median fundamental frequency, Hz
    centroid: float  # log-frequency centroid (log Hz) of the mean voiced envelope: a vocal-tract length proxy
    envelope: np.ndarray  # that mean log envelope, on _PROFILE_FREQS (to predict the warp's effect)


def profile(samples: np.ndarray, rate: int) -> Profile | None:
    """The median F0 and envelope centroid of the voiced frames of the channels' mix; None without voice.

    Non-overlapping 50-ms frames (a quarter as many as the disguise analyses), at most _PROFILE_FRAMES of them
    spread over the file: cheap, and a median over minutes of speech does not need more.
    """
    if samples.ndim != 2 or samples.shape[1] == 0:
        return None
    size = window_length(rate, 0.05)
    count = samples.shape[1] // size
    if count < _PROFILE_MIN_VOICED:
        return None
    window = np.hanning(size)
    spectra = np.abs(scipy.fft.rfft(_profile_frames(samples, count, size) * window.astype(np.float32), 2 * size)) ** 2
    energy = spectra.sum(axis=1, dtype=np.float64)
    loud = energy > _PROFILE_LOUD * np.percentile(energy, 95)
    f0, strength = _frame_pitch(spectra, rate, size, window)
    voiced = loud & (strength > _VOICED_STRENGTH)
    if voiced.sum() < _PROFILE_MIN_VOICED:
        return None
    freqs = np.fft.rfftfreq(2 * size, 1 / rate)
    log_env = _log_envelope(np.sqrt(spectra[voiced]), rate, _LIFTER_SECONDS)
    log_env -= np.log(np.mean(np.exp(2 * log_env), axis=1, keepdims=True)) / 2  # every frame counts alike
    mean = np.log(np.mean(np.exp(log_env), axis=0) + _FLOOR)
    envelope = np.interp(_PROFILE_FREQS, freqs, mean)
    return Profile(float(np.median(f0[voiced])), _centroid(envelope), envelope)


def _profile_frames(samples: np.ndarray, count: int, size: int) -> np.ndarray:
    """The channels' mix of at most _PROFILE_FRAMES of the `count` whole frames of `size` samples, spread over
    the file (frames × size); the chosen frames only are mixed: an hour of stereo is never copied whole."""
    if count <= _PROFILE_FRAMES:  # every frame: a view of the samples, no index array
        frames = samples[:, : count * size].reshape(len(samples), count, size)
    else:
        starts = np.linspace(0, (count - 1) * size, _PROFILE_FRAMES).astype(int)
        frames = samples[:, starts[:, None] + np.arange(size)]
    return np.add.reduce(frames, axis=0, dtype=np.float32) / np.float32(len(samples))


def _frame_pitch(spectra: np.ndarray, rate: int, size: int, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (power spectra of Hann-windowed frames padded to 2·size): F0 and its voicing strength."""
    band = int(np.ceil(_PITCH_BAND_HZ * 2 * size / rate))  # the bins below _PITCH_BAND_HZ; the rest taken as 0
    corr = scipy.fft.irfft(spectra[:, :band], 2 * size, axis=1)[:, :size]
    window_corr = np.fft.irfft(np.abs(np.fft.rfft(window, 2 * size)) ** 2)[:size]
    return _periods(corr, window_corr, rate, size)


def _track(magnitude: np.ndarray, rate: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per frame of a block's STFT: F0 and voicing strength, from its bins below _PITCH_BAND_HZ only (their
    autocorrelation is the lag domain at a low rate: cheap; the 50-ms window leaves lags to 60 Hz unaliased)."""
    bins = int(_PITCH_BAND_HZ * size / rate) + 1
    n = 2 * (bins - 1)
    corr = np.fft.irfft(magnitude[:, :bins].astype(np.float64) ** 2, n, axis=1)
    window = np.abs(np.fft.rfft(np.hanning(size)))[:bins] ** 2
    return _periods(corr, np.fft.irfft(window, n), rate * n / size, n // 2)


def _periods(corr: np.ndarray, window_corr: np.ndarray, lag_rate: float, valid: int) -> tuple[np.ndarray, np.ndarray]:
    """F0 and normalised autocorrelation per row of autocorrelations (lags at `lag_rate`, the first `valid`
    unaliased). The first peak within _OCTAVE_SHARE of the highest is taken, which avoids picking a period's
    multiple (an octave too low); values are capped at 1, where the window's correction lifts long lags' noise."""
    low = int(lag_rate / _F0_RANGE_HZ[1])
    high = min(valid, int(lag_rate / _F0_RANGE_HZ[0])) - 2
    corr, window_corr = corr[:, : high + 1], window_corr[: high + 1]  # the lags looked at, no more
    corr = corr / np.maximum(corr[:, :1], _FLOOR) / (window_corr / window_corr[0])  # unbiased, 1 at lag 0
    corr = np.minimum(corr, 1.0)
    lags = corr[:, low : high + 1]
    peaks = (lags[:, 1:-1] > lags[:, :-2]) & (lags[:, 1:-1] >= lags[:, 2:])
    values = np.where(peaks, lags[:, 1:-1], -np.inf)
    best = values.max(axis=1)
    first = np.argmax(values >= _OCTAVE_SHARE * best[:, None], axis=1)
    lag = low + 1 + first
    # a parabola through the peak and its neighbours: a fraction of a lag, for lags at a low rate
    rows = np.arange(len(lags))
    a, b, c = lags[rows, first], lags[rows, first + 1], lags[rows, first + 2]
    curve = a - 2 * b + c
    offset = np.clip(0.5 * (a - c) / np.where(np.abs(curve) > 1e-12, curve, -1e-12), -0.5, 0.5)
    return lag_rate / (lag + offset), np.where(np.isfinite(best), best, 0.0)


def _flattening(magnitude: np.ndarray, rate: int, size: int, voice: Voice) -> np.ndarray:
    """Per frame (frames × 1): the pitch ratio that pulls each voiced frame's F0 `voice.flatten` of the way (in
    log) towards the file's median, which narrows the intonation's range (a speaker's cue) by that share."""
    f0, strength = _track(magnitude, rate, size)
    energy = np.sum(magnitude.astype(np.float64) ** 2, axis=1)
    loud = energy > _PROFILE_LOUD * np.percentile(energy, 95) if len(energy) else energy > 0
    deviation = np.clip(np.log(f0 / voice.centre_f0), -np.log(2), np.log(2))
    deviation = np.where(loud & (strength > _VOICED_STRENGTH), deviation, 0.0)
    if len(deviation) >= 5:  # a median over 5 frames (62 ms at 48 kHz): a stray octave error does not jump
        deviation[2:-2] = np.median(sliding_window_view(deviation, 5), axis=1)
    return np.exp(-voice.flatten * deviation)[:, None]


def _centroid(log_envelope: np.ndarray) -> float:
    """The centroid in log-frequency of an envelope on _PROFILE_FREQS, weighted by its power."""
    inside = (_CENTROID_BAND[0] <= _PROFILE_FREQS) & (_CENTROID_BAND[1] >= _PROFILE_FREQS)
    env = log_envelope[inside]
    weight = np.exp(2 * (env - env.max()))
    return float(np.sum(weight * np.log(_PROFILE_FREQS[inside])) / np.sum(weight))


def disguise(
    samples: np.ndarray, rate: int, rng: np.random.Generator | None = None, speech: Sequence[Span] | None = None
) -> np.ndarray:
    """`samples` (channels × n, float32 in [-1, 1]) with every voice disguised; same shape, dtype and length.

    One voice is drawn per call (from a cryptographic seed unless `rng` is given) and used for every channel.
    `speech`: as `transform`'s. The voice-activity detector is not run here: unseen's own path (voice.py, then
    select.py) runs it anyway and passes its spans; without them, this is the method as the bench's anchors were
    measured.
    """
    if rng is None:
        rng = np.random.default_rng(secrets.randbits(128))
    return transform(samples, rate, draw(rng, profile(samples, rate)), speech)


def transform(samples: np.ndarray, rate: int, voice: Voice, speech: Sequence[Span] | None = None) -> np.ndarray:
    """`samples` changed by one given voice (every channel alike); the output's peak is kept within [-1, 1].
    `speech` (seconds from the first sample, where a voice is heard): the synthetic source is voiced only within
    SPEECH_MARGIN_SECONDS of it, noise elsewhere; None: wherever the pitch track finds a period."""
    if samples.ndim != 2:
        raise ValueError(f"samples must be channels × n, not of shape {samples.shape}")
    widened = None if speech is None else merged(speech, SPEECH_MARGIN_SECONDS)
    # One float32 output, filled in place: an hour of 48 kHz stereo is 1.4 GB a copy, so no stacked or float64 copy.
    out = np.zeros(samples.shape, np.float32)
    if samples.shape[1]:
        _channels(samples, rate, voice, out, widened)
    np.nan_to_num(out, copy=False)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 1.0:  # a louder formant can push a peak over full scale: lower the whole file, never clip
        out /= peak
    return out.astype(samples.dtype, copy=False)


def _channels(
    samples: np.ndarray, rate: int, voice: Voice, out: np.ndarray, speech: Sequence[Span] | None = None
) -> None:
    """Every channel changed alike into `out`, two at a time (numpy's FFTs release the GIL); identical channels
    once, then copied."""
    firsts: list[int] = []  # the index of each distinct channel
    order = []
    for index, channel in enumerate(samples):  # a mono recording stored as stereo is disguised once
        same = next((i for i, first in enumerate(firsts) if np.array_equal(samples[first], channel)), None)
        if same is None:
            firsts.append(index)
            same = len(firsts) - 1
        order.append(same)
    with ThreadPoolExecutor(max_workers=max(1, min(len(firsts), os.cpu_count() or 1))) as pool:
        list(pool.map(lambda index: _channel(samples[index], rate, voice, out[index], speech), firsts))
    for index, same in enumerate(order):
        if firsts[same] != index:
            out[index] = out[firsts[same]]


def _channel(
    signal: np.ndarray, rate: int, voice: Voice, out: np.ndarray, speech: Sequence[Span] | None = None
) -> None:
    """One channel into `out` (zeros, float32, the signal's length), in blocks of about 15 s (memory stays flat
    for an hour of sound), cross-faded over 0.1 s; `speech` (seconds of the whole signal, widened and joined) is
    read by each block at its own offset.

    Each block reads one window more on each side than it gives, so that over the cross-fade both blocks see
    the same frames; the later block's phases are then turned to continue the earlier one's, so a steady tone
    does not cancel itself where they meet."""
    size = window_length(rate, 0.05)
    hop = size // OVERLAP
    block, fade = int(_BLOCK_SECONDS * rate) // hop * hop, int(_CROSSFADE_SECONDS * rate)
    if len(signal) <= block + fade + size:
        out[:] = _block(signal, rate, voice, 0, speech=speech)[0]
        return
    ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
    phase: np.ndarray | None = None  # the previous block's phases of the frame this block is anchored to

    def first_of(cut: int) -> int:
        return max(0, cut - size)

    def anchor_frame(cut: int) -> int:  # the frame whose window ends one hop into the cross-fade: inside both
        return (cut - first_of(cut)) // hop + 1

    for index, cut in enumerate(range(0, len(signal), block)):
        first, last = first_of(cut), min(len(signal), cut + block + fade + size)
        anchor = None if phase is None else (anchor_frame(cut), phase)
        ahead = cut + block  # the next block's anchor frame, counted in this block's frames
        keep = (first_of(ahead) - first) // hop + anchor_frame(ahead) if ahead < len(signal) else None
        part, phase = _block(signal[first:last], rate, voice, first, index, anchor, keep, speech)
        end = min(len(signal), cut + block + fade)
        part = part[cut - first : end - first]
        if cut > 0:
            part[:fade] *= ramp[: len(part[:fade])]
            out[cut : cut + fade] *= 1.0 - ramp[: len(out[cut : cut + fade])]
        out[cut:end] += part
        if end == len(signal):
            break


def _block(
    signal: np.ndarray,
    rate: int,
    voice: Voice,
    offset: int,
    index: int = 0,
    anchor: tuple[int, np.ndarray] | None = None,
    keep: int | None = None,
    speech: Sequence[Span] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A stretch of one channel, and the output phases of its frame `keep` (the next block's anchor; None: none
    asked); `offset` (its first sample) keeps the drifts and `speech` (seconds, see `transform`) on the file's
    clock; `anchor` (a frame, the phases it must have) continues the previous block's phases. Only one frame's
    phases are returned: the angle of every frame cost 13% of the disguise's time."""
    size = window_length(rate, 0.05)
    spectra = stft(signal, size)
    magnitude = np.abs(spectra)
    log_envelope = _log_envelope(magnitude, rate, ENVELOPE_LIFTER_SECONDS)
    freqs = np.fft.rfftfreq(size, 1 / rate)

    hop = size // OVERLAP
    frames = (offset - size) / hop + np.arange(len(spectra))
    pitch, formant = _courses(voice, frames, rate / hop)
    alpha: float | np.ndarray = voice.alpha
    bends, colour = np.array(voice.bends), np.array(voice.colour)
    moves = voice.course(frames * hop / rate) if voice.course is not None else None
    if moves is not None:  # a voice that changes along the file (measured, not shipped: docs/voices.md)
        pitch, formant = pitch * np.exp(moves.pitch), formant * np.exp(moves.formant)
        alpha = np.clip(voice.alpha + moves.alpha, 0.5, 1.5)
        bends, colour = bends[None, :] + moves.bends, colour[None, :] + moves.colour
    if voice.flatten > 0 and voice.centre_f0 > 0:
        pitch = pitch * _flattening(magnitude, rate, size, voice)
    # Above _WARP_NONE_HZ (half the bins at 48 kHz) the warp has faded to none: the envelope stays as it is.
    warped = int(np.count_nonzero(freqs < _WARP_NONE_HZ))
    target_env = log_envelope.copy()
    source_env = _envelope_source(freqs[:warped], rate, alpha, bends, formant)
    target_env[:, :warped] = _interp_rows(log_envelope, source_env * (size / rate))
    if voice.split_hz > 0:  # after the warp (whose detail above the split it removes), before the equaliser
        upper.smooth(target_env, freqs, voice.split_hz)  # in place: target_env is this block's own
    target_env = over_time(target_env, ENVELOPE_FRAMES)
    if voice.reshape is not None:
        target_env = voice.reshape(target_env, freqs)
    if colour.size:
        target_env = target_env + _colour(freqs, colour).astype(np.float32)
    if voice.evening:
        fade = 1.0 - upper.ramp(freqs, _WARP_FULL_HZ, _WARP_NONE_HZ)
        target_env = target_env + (fade * np.interp(freqs, _PROFILE_FREQS, np.array(voice.evening)))[None, :]
    if voice.source is not None:  # a synthetic excitation instead of the speaker's own (excitation.py)
        # frame i's window ends at the block's sample i·hop (stft pads a window before): its centre, in seconds
        centres = (offset - size / 2 + hop * np.arange(len(spectra))) / rate
        inside = None if speech is None else _inside(speech, centres)
        return _sourced(signal, magnitude, target_env, pitch, voice, rate, offset, anchor, keep, moves, inside)
    fine = magnitude / np.exp(log_envelope)
    source_fine = _fine_source(freqs, pitch)
    target_fine = _interp_rows(fine, source_fine * size / rate)
    shaped = np.exp(target_env) * target_fine

    # Each frame keeps its energy: loudness and rhythm are the original's.
    before = np.sum(magnitude**2, axis=1, keepdims=True)
    after = np.sum(shaped**2, axis=1, keepdims=True)
    shaped *= np.sqrt(before / np.maximum(after, _FLOOR * _FLOOR))

    moved = voice.pitch != 1.0 or voice.wobble != 0.0 or voice.flatten > 0
    phase = np.angle(spectra)
    if moved:
        phase = _shifted_phase(phase, freqs, source_fine, size)
    if anchor is not None:
        phase += anchor[1] - phase[anchor[0]]
    result = shaped * np.exp(1j * phase)
    if voice.breath > 0:
        rng = np.random.default_rng([voice.seed, 1, index])
        noise = rng.standard_normal(shaped.shape) + 1j * rng.standard_normal(shaped.shape)
        level = np.exp(target_env) * np.sqrt(np.mean(target_fine**2, axis=1, keepdims=True) / 2)
        result = np.sqrt(1 - voice.breath) * result + np.sqrt(voice.breath) * level * noise
    return _at_input_level(signal, istft(result, size, len(signal))), None if keep is None else phase[keep]


def _sourced(
    signal: np.ndarray,
    magnitude: np.ndarray,
    target_env: np.ndarray,
    pitch: np.ndarray,
    voice: Voice,
    rate: int,
    offset: int,
    anchor: tuple[int, np.ndarray] | None,
    keep: int | None,
    moves: Offsets | None = None,
    inside: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """`_block` with a synthetic excitation (excitation.py, following the block's own pitch track) under the
    target envelope, each frame at its input energy, voiced only in the frames `inside` speech (None: any);
    the output and its phases, as `_block`."""
    assert voice.source is not None
    size = 2 * (magnitude.shape[1] - 1)
    f0, strength = _track(magnitude, rate, size)
    energy = np.einsum("ij,ij->i", magnitude, magnitude)[:, None]  # one pass, no squared copy
    loud = energy[:, 0] > _PROFILE_LOUD * np.percentile(energy, 95) if len(energy) else energy[:, 0] > 0
    changes = None if moves is None else excitation.Changes(moves.range[:, 0], moves.tilt[:, 0], moves.breath[:, 0])
    levels = excitation.levels(energy, rate / (size // OVERLAP), voice.source)
    result = excitation.spectra(
        f0, strength, loud, pitch[:, 0], voice.centre_f0, voice.source, rate, size, len(signal), offset, changes,
        envelope=target_env.astype(np.float32, copy=False), power=levels / magnitude.shape[1], speech=inside,
    )  # fmt: skip  # each frame at the input frame's energy
    if anchor is not None:
        turn = anchor[1] - np.angle(result[anchor[0]])
        result *= np.exp(1j * turn).astype(np.complex64)
    kept = None if keep is None else np.angle(result[keep])
    return _at_input_level(signal, istft(result, size, len(signal))), kept


def _inside(spans: Sequence[Span], times: np.ndarray) -> np.ndarray:
    """Per time (seconds), whether it lies in one of `spans` (sorted, not overlapping: `merged`'s)."""
    starts = np.array([a for a, _ in spans])
    ends = np.array([b for _, b in spans])
    at = np.searchsorted(starts, times, side="right") - 1  # the last span starting at or before each time
    return (at >= 0) & (times < ends[np.maximum(at, 0)]) if len(spans) else np.zeros(len(times), bool)


def over_time(log_envelope: np.ndarray, frames: int) -> np.ndarray:
    """Each frame's log envelope (frames × bins) averaged with its neighbours', `frames` in all (1: as it is; the
    block's first and last frames repeated beyond its ends). How fast a vocal tract moves from one sound to the
    next is the speaker's own, and a speaker network reads it (measured, not shipped: ENVELOPE_FRAMES)."""
    if frames <= 1:
        return log_envelope
    return uniform_filter1d(log_envelope, frames, axis=0, mode="nearest")


def _at_input_level(signal: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`out` at `signal`'s energy: moved phases overlap-add partly out of step and lose some of it."""
    wanted, got = float(np.sum(signal.astype(np.float64) ** 2)), float(np.sum(out.astype(np.float64) ** 2))
    return out * np.sqrt(wanted / got) if got > 0 else out


def _log_envelope(magnitude: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    """Cepstrally smoothed log magnitude: the envelope through the harmonics, per frame.

    A log spectrum is real and even, so its cepstrum (the inverse real FFT) is its DCT-I divided by the FFT's
    size, and the envelope of the first quefrencies is their DCT-I: the same values as the inverse and forward
    real FFTs to float32 rounding at two-thirds of their cost (scipy's FFTs keep single precision)."""
    size = 2 * (magnitude.shape[1] - 1)
    keep = max(2, int(rate * seconds))
    cepstrum = scipy.fft.dct(np.log(magnitude + np.asarray(_FLOOR, magnitude.dtype)), 1, axis=1, overwrite_x=True)
    cepstrum[:, keep:] = 0.0
    cepstrum[:, :keep] /= size
    return scipy.fft.dct(cepstrum, 1, axis=1, overwrite_x=True)


def _courses(voice: Voice, frames: np.ndarray, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (frames × 1, frame numbers on the file's clock): the pitch ratio and the formant scale, each
    drifting slowly around its value."""
    rng = np.random.default_rng([voice.seed, 2])
    t = frames / frame_rate

    def course() -> np.ndarray:  # two slow sines (periods 1.5-5 s) at random phases, within [-1, 1]
        periods, phases = rng.uniform(1.5, 5.0, 2), rng.uniform(0, 2 * np.pi, 2)
        return np.mean(np.sin(2 * np.pi * t[:, None] / periods + phases), axis=1)[:, None]

    pitch = voice.pitch * 2 ** (voice.wobble * course() / 12)
    formant = voice.formant * np.exp(voice.drift * course())
    return pitch, formant


def _envelope_source(
    freqs: np.ndarray, rate: int, alpha: float | np.ndarray, bends: tuple[float, ...] | np.ndarray, formant: np.ndarray
) -> np.ndarray:
    """For each frame and output frequency, the input frequency whose envelope it takes (Hz, float32). `alpha`
    is one value or one per frame (frames × 1), `bends` one row or one per frame, `formant` one per frame."""
    f = np.maximum(freqs, 1.0)
    # McAdams: the forward warp φ' = φ^α on φ = π f / 8 kHz; its inverse gives the source.
    reference = 8000.0 / np.pi
    log_ratio = (1 / np.atleast_2d(alpha) - 1) * np.log(f / reference)[None, :]
    u = np.clip(np.log(f / 100.0) / np.log(80.0), 0.0, 1.0)
    rows = np.atleast_2d(np.asarray(bends, dtype=np.float64))
    for k in range(1, rows.shape[1] + 1):
        log_ratio = log_ratio - rows[:, k - 1 : k] * np.sin(np.pi * k * u)  # zero at both ends: anchored
    fade = 1.0 - upper.ramp(f, _WARP_FULL_HZ, _WARP_NONE_HZ)
    # f·exp(fade·(log_ratio − log formant)) as (f·exp(fade·log_ratio)) · formant^−fade: with one α and one row of
    # bends (the product) the first is one row, and the second needs a power only where the warp fades out
    source = (f * np.exp(fade * log_ratio)).astype(np.float32) * _powers(np.asarray(formant, np.float32), -fade)
    return np.clip(source, 0.0, rate / 2, out=source)


def _powers(base: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """base (frames × 1) ** exponents (bins): frames × bins, float32, a power taken only where the exponent is
    neither 0 nor -1."""
    out = np.ones((len(base), len(exponents)), np.float32)
    whole, between = exponents == -1, (exponents != -1) & (exponents != 0)
    out[:, whole] = 1 / base
    out[:, between] = base ** exponents[between].astype(np.float32)
    return out


def _colour(freqs: np.ndarray, amplitudes: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """A smooth log-gain curve over log-frequency (100 Hz..8 kHz), from amplitudes in dB: one row of amplitudes
    gives one curve (1 × bins), one row per frame a curve per frame."""
    u = np.clip(np.log(np.maximum(freqs, 1.0) / 100.0) / np.log(80.0), 0.0, 1.0)
    rows = np.atleast_2d(np.asarray(amplitudes, dtype=np.float64))
    sines = np.sin(np.pi * np.arange(1, rows.shape[1] + 1)[:, None] * u[None, :])
    return rows @ sines * np.log(10) / 20


def _fine_source(freqs: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """For each frame and output frequency, the input frequency whose fine structure (harmonics) it takes (Hz)."""
    fade = 1.0 - upper.ramp(freqs, _SHIFT_FULL_HZ, _SHIFT_NONE_HZ)[None, :]
    return freqs * (fade / pitch + (1 - fade))


def _interp_rows(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Each row sampled at its row of fractional bin positions (linear interpolation, clamped at the ends; as
    many positions per row as given, float32 when `rows` is). Flat indices into the rows: numpy's
    take_along_axis cost twice as much."""
    count, bins = rows.shape
    at = np.clip(np.broadcast_to(positions, (count, positions.shape[-1])), 0, bins - 1).astype(np.float32, copy=False)
    low = at.astype(np.int32)  # at >= 0, so truncation floors
    np.minimum(low, bins - 2, out=low)  # the last bin: weight 1 on it
    weight = at - low
    low += (np.arange(count, dtype=np.int32) * bins)[:, None]
    flat = np.ravel(rows)
    below = np.take(flat, low)
    above = np.take(flat, low + 1)
    above -= below
    above *= weight
    above += below
    return above


def _shifted_phase(phase: np.ndarray, freqs: np.ndarray, source: np.ndarray, size: int) -> np.ndarray:
    """Phases for the moved bins: each takes its source bin's instantaneous frequency, scaled, accumulated."""
    hop = size // OVERLAP
    bins = np.arange(phase.shape[1])
    expected = 2 * np.pi * bins * hop / size
    deviation = np.diff(phase, axis=0, prepend=phase[:1]) - expected
    deviation = (deviation + np.pi) % (2 * np.pi) - np.pi
    instant = (expected + deviation) / hop  # radians per sample, per frame and bin
    rate_hz = freqs[1] * size if len(freqs) > 1 else 1.0
    source = np.broadcast_to(source, phase.shape)
    nearest = np.clip(np.rint(source * size / rate_hz).astype(int), 0, phase.shape[1] - 1)
    ratio = np.where(source > 0, freqs / np.maximum(source, 1e-9), 1.0)
    advance = hop * np.take_along_axis(instant, nearest, 1) * ratio
    advance[0] = np.take_along_axis(phase, nearest, 1)[0]
    return np.cumsum(advance, axis=0)
