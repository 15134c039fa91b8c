"""Faces followed across video frames, so that a face the detector misses in some frames is covered there too.

Every detection joins a track (the nearest one that could have moved there, or a new one). A frame is released
only once `lookahead` later frames have been seen, and then carries, besides its own detections, for each
track: a box interpolated between detections before and after it (gaps up to `max_gap` frames), a box carried
on with the track's motion for `extend_after` frames past a detection, and one carried back for `extend_before`
frames before it, once the track is confirmed (by `confirm` detections, or one scoring `sure`). Boxes not
detected in the frame grow with the distance to the nearest detection by the track's measured speed (and a
quarter pixel a frame), not by a share of their size. No track is dropped for being short: one detection is
always covered in its own frame, and a sure one in 1 + before + after frames.

On the bench clip (bench/video.py, README "Videos"; its detections stored and replayed through the tracker)
the carried and grown boxes were most of the collateral: 1.6% with no carrying at all (94.1% of face-frames)
against 9.7% with the former growth (0.05 of the size and 1 px a frame a side; 97.7%). Growing by the measured
motion only, carrying tracks confirmed by 3 detections and giving carried boxes a score under
obscure.CONFIDENT: 4.6% (96.5%). Measured on the output, with video.py's search plan: 4.97% collateral, 96.01%
of face-frames (95.98% before this plan and these settings).
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from unseen.detectors.merge import iou_matrix
from unseen.faces import Faces
from unseen.obscure import CONFIDENT

# The score given to a box the tracker adds (not detected in its frame): the track's best, but never sure
# enough for the larger mask of a sure face (obscure.CONFIDENT), which is meant for a face the detector saw
# there. On the bench clip: 0.5 points less collateral, the same face-frames protected (README, "Videos").
CARRIED_SCORE = float(np.nextafter(np.float32(CONFIDENT), np.float32(0)))


@dataclass(frozen=True)
class TrackerSettings:
    extend_before: int = 8  # frames covered before a track's first detection (and before each re-detection)
    extend_after: int = 8  # frames covered after each detection
    max_gap: int = 20  # a face found again within this many frames is covered all the way in between
    # Per frame away from a detection, each side grows by this share of the box size (0: only by the motion
    # measured, half the track's speed a frame, see Tracker._grow; on the bench clip's detections, replayed, a
    # share of 0.05 cost about 3 points of collateral for 0.8 of face-frames) ...
    growth: float = 0.0
    max_growth: float = 0.5
    # ... and by this many pixels: the camera moves small faces as far as large ones (1.0 before: +0.9 point
    # of collateral for +0.4 of face-frames, replayed).
    pixels_per_frame: float = 0.25
    # How far a face may move per frame and still be taken for the same face, in pixels, beyond a share of
    # its size: for a small face in a pan, its own size says little.
    reach_pixels: float = 4.0
    velocity_span: int = 5  # frames over which a track's speed is measured (longer: less detector jitter)
    max_speed: float = 0.5  # per frame, as a share of the box size: faster is taken for detector jitter
    # A track is carried past its detections only once this many detections (seen by the time a frame is
    # released, `lookahead` frames later) confirm it, or one of them scores `sure` or more: a lone detection
    # scoring low is covered in its own frame only (replayed: 2 gave +1 point of collateral for +0.2 of
    # face-frames; 4 left a face exposed for 90 frames).
    confirm: int = 3
    sure: float = 0.5
    # Frames per search step (stepped()): a face may move this many frames' worth between two searches.
    step: int = 1

    def __post_init__(self) -> None:
        if min(self.extend_before, self.extend_after, self.max_gap) < 0:
            raise ValueError("tracker frame counts cannot be negative")
        if self.step < 1:
            raise ValueError(f"step must be at least 1, not {self.step}")

    def stepped(self, step: int) -> TrackerSettings:
        """These settings, meant for a video searched in every frame at about 30 fps, for one searched in every
        `step`-th frame of a video `step` times as fast (video.frame_step): the same in seconds. Counts of
        detections and scores stay as they are."""
        if step == 1:
            return self
        return replace(
            self,
            extend_before=self.extend_before * step,
            extend_after=self.extend_after * step,
            max_gap=self.max_gap * step,
            velocity_span=self.velocity_span * step,
            growth=self.growth / step,
            pixels_per_frame=self.pixels_per_frame / step,
            reach_pixels=self.reach_pixels / step,
            max_speed=self.max_speed / step,
            step=self.step * step,
        )

    @property
    def lookahead(self) -> int:
        """Frames that must follow a frame before it can be released."""
        return max(self.max_gap + 1, self.extend_before)


@dataclass
class Track:
    id: int
    frames: list[int] = field(default_factory=list)  # frames with a detection, ascending
    boxes: list[np.ndarray] = field(default_factory=list)
    score: float = 0.0
    detections: int = 0
    first: int = 0

    @property
    def last(self) -> int:
        return self.frames[-1]

    def add(self, index: int, box: np.ndarray, score: float) -> None:
        if not self.frames:
            self.first = index
        self.frames.append(index)
        self.boxes.append(box.astype(np.float32))
        self.score = max(self.score, score)
        self.detections += 1

    def velocity(self, at: int, look_later: bool, span: int, max_speed: float = 0.5) -> np.ndarray:
        """Box change per frame at detection number `at`, from the detections up to `span` frames later (or
        earlier): over several frames, so that the detector's jitter is not taken for motion."""
        frame = self.frames[at]
        step = 1 if look_later else -1
        other = at
        while 0 <= other + step < len(self.frames) and abs(self.frames[other + step] - frame) <= span:
            other += step
        if other == at:
            return np.zeros(4, np.float32)
        v = (self.boxes[other] - self.boxes[at]) / (self.frames[other] - frame)
        limit = max_speed * _size(self.boxes[at])
        return np.clip(v, -limit, limit)

    def predict(self, index: int, span: int, max_speed: float) -> np.ndarray:
        return self.boxes[-1] + self.velocity(len(self.frames) - 1, False, span, max_speed) * (index - self.last)

    def trim(self, before: int) -> None:
        """Forget detections before frame `before`, keeping two for the speed."""
        keep = max(0, min(bisect.bisect_left(self.frames, before), len(self.frames) - 2))
        del self.frames[:keep], self.boxes[:keep]

    def summary(self) -> dict[str, object]:
        return {
            "track": self.id,
            "first_frame": self.first,
            "last_frame": self.last,
            "detections": self.detections,
            "score": round(self.score, 4),
        }


# A released frame: its index, every box to cover in it, and the id of the track each box belongs to.
Released = tuple[int, Faces, np.ndarray]


class Tracker:
    """Feed every frame's detections in order with `push`; take released frames from it and from `flush`
    (or from `push_tracked` and `flush_tracked`, which also say which track each box belongs to)."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self.pending: deque[tuple[int, Faces, np.ndarray]] = deque()  # with each detection's track id
        self.tracks: list[Track] = []
        self.done: list[dict[str, object]] = []
        self._next_id = 0

    def push(self, index: int, faces: Faces) -> list[tuple[int, Faces]]:
        """Detections of frame `index`; returns the frames now released, with every box to cover."""
        return [(i, boxes) for i, boxes, _ids in self.push_tracked(index, faces)]

    def flush(self) -> list[tuple[int, Faces]]:
        return [(i, boxes) for i, boxes, _ids in self.flush_tracked()]

    def push_tracked(self, index: int, faces: Faces) -> list[Released]:
        """As `push`, each released frame with the track id of each of its boxes."""
        if self.pending and index <= self.pending[-1][0]:
            raise ValueError(f"frame {index} pushed after frame {self.pending[-1][0]}")
        ids = self._associate(index, faces)
        self.pending.append((index, faces, ids))
        released = []
        while self.pending and self.pending[0][0] <= index - self.settings.lookahead:
            released.append(self._release(*self.pending.popleft()))
        self._retire(index)
        return released

    def flush_tracked(self) -> list[Released]:
        released = [self._release(*item) for item in self.pending]
        self.pending.clear()
        self.done.extend(t.summary() for t in self.tracks)
        self.tracks.clear()
        return released

    def summaries(self) -> list[dict[str, object]]:
        return sorted(self.done, key=lambda s: (s["first_frame"], s["track"]))

    # --- association --------------------------------------------------------------------------------------

    def _associate(self, index: int, faces: Faces) -> np.ndarray:
        """Join each detection to a track, a new one if none fits; returns the track id of each."""
        ids = np.full(len(faces), -1, np.int64)
        live = [t for t in self.tracks if index - t.last <= self.settings.max_gap + 1]
        matched: set[int] = set()
        if live and len(faces):
            s = self.settings
            predicted = np.stack([t.predict(index, s.velocity_span, s.max_speed) for t in live])
            gaps = np.array([index - t.last for t in live], np.float32)
            cost = _match_cost(predicted, faces.boxes, gaps / s.step, s.reach_pixels * s.step)
            for flat in np.argsort(cost, axis=None, kind="stable"):
                ti, di = divmod(int(flat), len(faces))
                if not np.isfinite(cost[ti, di]):
                    break
                if di in matched or live[ti].last == index:
                    continue
                live[ti].add(index, faces.boxes[di], float(faces.scores[di]))
                matched.add(di)
                ids[di] = live[ti].id
        for di in range(len(faces)):
            if di not in matched:
                track = Track(self._next_id)
                self._next_id += 1
                track.add(index, faces.boxes[di], float(faces.scores[di]))
                self.tracks.append(track)
                ids[di] = track.id
        return ids

    def _retire(self, index: int) -> None:
        """Drop tracks no pending frame can use and no future detection can join; trim the others."""
        oldest = self.pending[0][0] if self.pending else index
        reach = max(self.settings.extend_after, self.settings.max_gap + 1)
        keep = []
        for track in self.tracks:
            if track.last < oldest - reach and index - track.last > self.settings.max_gap + 1:
                self.done.append(track.summary())
            else:
                track.trim(oldest - reach - self.settings.velocity_span)
                keep.append(track)
        self.tracks = keep

    # --- release ------------------------------------------------------------------------------------------

    def _release(self, index: int, faces: Faces, ids: np.ndarray) -> Released:
        boxes, scores, owners = [faces.boxes], [faces.scores], [ids]
        for track in self.tracks:
            for box in self._cover(track, index):
                boxes.append(box[None])
                scores.append(np.array([min(track.score, CARRIED_SCORE)], np.float32))
                owners.append(np.array([track.id], np.int64))
        return index, Faces(np.concatenate(boxes), np.concatenate(scores)), np.concatenate(owners)

    def _cover(self, track: Track, index: int) -> list[np.ndarray]:
        """Boxes this track adds to frame `index`, which has no detection of it."""
        s = self.settings
        after = bisect.bisect_left(track.frames, index)  # first detection at or after the frame
        if after < len(track.frames) and track.frames[after] == index:
            return []  # detected there: the detection itself is in the frame's faces
        before = after - 1
        has_before, has_after = before >= 0, after < len(track.frames)
        if has_before and has_after and track.frames[after] - track.frames[before] - 1 <= s.max_gap:
            return [self._interpolate(track, before, after, index)]
        out: list[np.ndarray] = []
        if track.detections < s.confirm and track.score < s.sure:
            return out  # not confirmed: covered where it was detected (and between its detections) only
        if has_before and index - track.frames[before] <= s.extend_after:
            out.append(self._carry(track, before, index, forward=True))
        if has_after and track.frames[after] - index <= s.extend_before:
            out.append(self._carry(track, after, index, forward=False))
        return out

    def _interpolate(self, track: Track, before: int, after: int, index: int) -> np.ndarray:
        f0, f1 = track.frames[before], track.frames[after]
        w = (index - f0) / (f1 - f0)
        box = (1 - w) * track.boxes[before] + w * track.boxes[after]
        return self._grow(box, min(index - f0, f1 - index), np.zeros(4, np.float32))

    def _carry(self, track: Track, at: int, index: int, forward: bool) -> np.ndarray:
        """The box of detection number `at` moved on (or back) to frame `index` at the track's speed there."""
        v = track.velocity(at, not forward, self.settings.velocity_span, self.settings.max_speed)
        distance = index - track.frames[at]
        return self._grow(_not_smaller(track.boxes[at] + v * distance, track.boxes[at]), abs(distance), v)

    def _grow(self, box: np.ndarray, distance: int, velocity: np.ndarray) -> np.ndarray:
        """Grow by the uncertainty: a share of the size per frame away, plus half the distance moved."""
        size = _size(box)
        pad = size * min(self.settings.growth * distance, self.settings.max_growth)
        pad += (self.settings.pixels_per_frame + 0.5 * float(np.abs(velocity).max())) * distance
        return box + np.array([-pad, -pad, pad, pad], np.float32)


def _not_smaller(moved: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """`moved` about its centre, at least as large as `detected`: a face coming closer is covered as it grows,
    but one carried on never shrinks to nothing."""
    centre = (moved[:2] + moved[2:]) / 2
    half = np.maximum(np.abs(moved[2:] - moved[:2]), detected[2:] - detected[:2]) / 2
    return np.concatenate([centre - half, centre + half]).astype(np.float32)


def _size(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def _match_cost(tracks: np.ndarray, detections: np.ndarray, gaps: np.ndarray, reach_pixels: float) -> np.ndarray:
    """Cost of joining each detection to each track's predicted box; inf where it cannot be the same face.

    Overlapping boxes cost 1 - IoU. Apart, the centre distance in face sizes counts; it may grow with the
    search steps since the track was last seen (`gaps`: a share of the size plus `reach_pixels` per step), and
    sizes must agree within a factor of two.
    """
    iou = iou_matrix(tracks, detections)
    tc = (tracks[:, :2] + tracks[:, 2:]) / 2
    dc = (detections[:, :2] + detections[:, 2:]) / 2
    ts = np.maximum((tracks[:, 2:] - tracks[:, :2]).max(axis=1), 1.0)
    ds = np.maximum((detections[:, 2:] - detections[:, :2]).max(axis=1), 1.0)
    size = np.maximum(ts[:, None], ds[None, :])
    distance = np.linalg.norm(tc[:, None] - dc[None, :], axis=2) / size
    reach = np.minimum(0.5 + 0.25 * gaps, 2.0)[:, None] + reach_pixels * gaps[:, None] / size
    ratio = ts[:, None] / ds[None, :]
    plausible = (distance <= reach) & (ratio >= 0.5) & (ratio <= 2.0)
    cost = np.where(iou > 0, 1 - iou, 1 + distance)
    return np.where(plausible, cost, np.inf)
