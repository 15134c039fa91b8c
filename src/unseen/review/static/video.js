// The review page's video view: one frame at a time with what covers it, a timeline of tracks, and a
// person's tracks (keyframes, interpolated in between). Shares `page` and the helpers of review.js (the two
// modules import each other: only functions and objects cross, used once the page has loaded).
import {
  $, UNSURE, boxElement, button, change, drawRegions, fit, getJSON, lookedAt, page, post, renderFlagbar, setFile,
  showPicture, text, updateButtons,
} from "./review.js";
import {
  clearSound, drawSoundLanes, restoreSound, soundBody, soundKey, soundSnapshot, takeSound, updateSoundButtons,
} from "./sound.js";

export const video = {
  frame: 0,
  regions: [], // what covers the frame shown: {track, origin, box, keyframe, off, score}
  wanted: null, // the frame last asked for (scrubbing asks faster than frames come)
};

export function isVideo() {
  return !!(page.file && page.file.kind === "video");
}

export function openVideo(data) {
  page.tracks = data.tracks.map(copyTrack);
  page.selectedTrack = null;
  setFile(data);
  takeSound(data);
  $("videobar").hidden = false;
  $("timeline").hidden = false;
  $("scrub").max = String(data.frames - 1);
  fit();
  showFrame(Math.min(video.frame, data.frames - 1), true);
  drawTimeline();
}

export function videoRowChanged(row, previous) {
  if (row.revision !== page.file.revision || !previous || row.flagged !== previous.flagged) return true;
  return row.speech !== previous.speech || row.sound !== previous.sound || row.unheard !== previous.unheard;
}

export async function refreshVideo() {
  // While a change is on its way the page's copy is the newest, and the save's answer brings the server's.
  if (page.unsaved > 0) return;
  const index = page.current;
  const data = await getJSON(`/api/files/${index}`);
  if (page.current !== index || !isVideo() || page.unsaved > 0 || data.revision < page.file.revision) return;
  const saved = data.revision === page.file.revision && $("filestate").textContent === "Saved";
  page.tracks = data.tracks.map(copyTrack);
  setFile(data);
  if (saved) $("filestate").textContent = "Saved"; // setFile clears it; nothing since the last save changed that
  takeSound(data);
  $("scrub").max = String(data.frames - 1);
  drawTimeline();
  showFrame(video.frame, true);
}

export function searching() {
  if (page.file && page.file.state === "searching") {
    $("filestate").textContent = "Still being searched: you can look now, and change it when it is done.";
    return true;
  }
  return false;
}

export function closeVideo() {
  $("videobar").hidden = true;
  $("timeline").hidden = true;
  clearSound();
  page.tracks = [];
  video.regions = [];
  video.frame = 0;
}

export function videoSnapshot() {
  return { tracks: page.tracks.map(copyTrack), ...soundSnapshot() };
}

export function restoreVideo(snap) {
  page.tracks = snap.tracks;
  restoreSound(snap);
}

export function copyTrack(t) {
  return { ...t, trim: t.trim ? t.trim.slice() : null, keyframes: t.keyframes ? t.keyframes.map((k) => k.slice()) : undefined };
}

function frameURL(k) {
  const f = page.file;
  return `/api/files/${f.index}/frame/${k}?obscured=${page.obscured ? 1 : 0}&rev=${f.revision}`;
}

export async function showFrame(k, force = false) {
  const f = page.file;
  if (!f) return;
  k = Math.max(0, Math.min(f.frames - 1, k));
  if (k === video.frame && !force) return;
  video.frame = k;
  video.wanted = k;
  framesSeen().add(k);
  $("scrub").value = String(k);
  $("frameno").textContent = `frame ${k + 1} of ${f.frames}`;
  moveCursor();
  const index = f.index;
  const url = frameURL(k);
  const img = new Image();
  img.onload = () => { if (video.wanted === k && page.current === index) showPicture(index, url); };
  img.src = url;
  const at = await getJSON(`/api/files/${index}/at/${k}`);
  if (video.wanted !== k || page.current !== index) return;
  video.regions = at.regions;
  drawRegions();
  $("canvas").dataset.frame = String(k); // the boxes drawn are this frame's
}

function step(n) {
  showFrame(video.frame + n);
}

export function drawVideoRegions(canvas) {
  for (const r of video.regions) {
    const classes = [`region ${r.origin}`];
    if (r.off || trackOf(r.track)?.removed) classes.push("off");
    if (isUnsureTrack(trackOf(r.track))) classes.push("low");
    if (r.keyframe) classes.push("keyframe");
    const selected = r.track === page.selectedTrack;
    if (selected) classes.push("selected");
    const label = `${r.origin === "person" ? "yours" : "track"} ${r.track}${r.off ? " (off)" : ""}`;
    const el = boxElement(classes.join(" "), r.box, true, label, selected && r.origin === "person");
    el.dataset.track = r.track;
    el.dataset.box = JSON.stringify(r.box);
    canvas.append(el);
  }
}

function trackOf(id) {
  return (page.tracks || []).find((t) => t.id === id);
}

// ---- the timeline --------------------------------------------------------------------------------------------

export function drawTimeline() {
  const f = page.file;
  const lanes = page.tracks.map((t) => lane(t, f.frames));
  if ((f.flagged || []).length) lanes.push(flagLane(f.flagged, f.frames));
  $("tracks").replaceChildren(...lanes);
  drawSoundLanes();
  moveCursor();
  renderFlagbar();
}

// ---- what to look at before approving: the frames the check flags, the tracks the detector was unsure of ----

function isUnsureTrack(t) {
  return !!t && t.origin === "detector" && !t.removed && (t.score ?? 1) < UNSURE;
}

function framesSeen(index = page.current) {
  if (!page.seenFrames.has(index)) page.seenFrames.set(index, new Set());
  return page.seenFrames.get(index);
}

function flaggedNotSeen() {
  const seen = framesSeen();
  return (page.file.flagged || []).filter((k) => !seen.has(k));
}

function unsureTracksNotLooked() {
  const seen = lookedAt();
  return page.tracks.filter((t) => isUnsureTrack(t) && !seen.has(t.id));
}

function framesText(frames) {
  const shown = frames.slice(0, 12).map((k) => k + 1).join(", ");
  return frames.length > 12 ? `${shown}, …` : shown;
}

export function videoFlagbar(bar) {
  const parts = [];
  const flagged = page.file.flagged || [];
  if (flagged.length) {
    const left = flaggedNotSeen();
    parts.push(text(`The check sees a face in ${flagged.length} frame${flagged.length > 1 ? "s" : ""}${left.length ? ` (${left.length} not looked at)` : ""}:`, "flagtext"));
    for (const k of flagged.slice(0, 12)) parts.push(button(`${k + 1}${framesSeen().has(k) ? " ✓" : ""}`, () => showFrame(k), `Show frame ${k + 1}`));
    if (flagged.length > 12) parts.push(button("next not looked at", () => { const l = flaggedNotSeen(); if (l.length) showFrame(l[0]); }));
  }
  const unsure = page.tracks.filter(isUnsureTrack);
  if (unsure.length) {
    const left = unsureTracksNotLooked().length;
    parts.push(text(`${unsure.length} unsure track${unsure.length > 1 ? "s" : ""}${left ? ` (${left} not looked at)` : ""}:`, "unsuretext"));
    parts.push(button("Review unsure one by one (U)", nextVideoUnsure), button("Keep all unsure (K)", keepVideoUnsure));
  }
  bar.replaceChildren(...parts);
  bar.hidden = parts.length === 0;
}

export function nextVideoUnsure() {
  const all = page.tracks.filter(isUnsureTrack);
  if (!all.length) { $("filestate").textContent = "No unsure track here"; return; }
  const left = unsureTracksNotLooked();
  const t = left.length ? left[0] : all[(all.indexOf(trackOf(page.selectedTrack)) + 1) % all.length];
  selectTrack(t.id);
  const [a] = t.trim || [t.first, t.last];
  showFrame(a);
  $("filestate").textContent = `Unsure track ${t.id}: Delete removes it, U goes on`;
}

export function keepVideoUnsure() {
  const seen = lookedAt();
  for (const t of page.tracks.filter(isUnsureTrack)) seen.add(t.id);
  renderFlagbar();
}

export function confirmVideoApproval() {
  const frames = flaggedNotSeen();
  const tracks = unsureTracksNotLooked();
  if (!frames.length && !tracks.length) return true;
  const parts = [];
  if (frames.length) parts.push(`${frames.length} frame${frames.length > 1 ? "s" : ""} in which the check sees a face (${framesText(frames)})`);
  if (tracks.length) parts.push(`${tracks.length} unsure track${tracks.length > 1 ? "s" : ""} (${tracks.map((t) => t.id).join(", ")})`);
  const ok = window.confirm(`You have not looked at ${parts.join(" and ")}. Approve anyway?`);
  if (ok) {
    for (const k of frames) framesSeen().add(k);
    keepVideoUnsure();
  }
  return ok;
}

function pct(frame, frames) {
  return `${(100 * frame) / frames}%`;
}

function lane(t, frames) {
  const row = document.createElement("div");
  row.className = "lane";
  row.dataset.track = t.id;
  if (t.id === page.selectedTrack) row.classList.add("selected");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = `${t.origin === "person" ? "yours" : "track"} ${t.id}${t.removed ? " ✕" : isUnsureTrack(t) ? " ?" : ""}`;
  row.append(name);
  const [first, last] = t.trim || [t.first, t.last];
  if (t.trim) row.append(bar("cut", t.first, t.last, frames));
  row.append(bar(t.removed ? "removed" : t.origin, first, last, frames));
  for (const k of t.keyframes || []) {
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.style.left = pct(k[0], frames);
    row.append(tick);
  }
  row.addEventListener("mousedown", (event) => {
    event.preventDefault();
    selectTrack(t.id);
    const frame = frameAt(event, row, frames);
    const [a, b] = t.trim || [t.first, t.last];
    showFrame(frame >= a && frame <= b ? frame : a);
  });
  return row;
}

function bar(kind, first, last, frames) {
  const el = document.createElement("span");
  el.className = `bar ${kind}`;
  el.style.left = pct(first, frames);
  el.style.width = pct(last - first + 1, frames);
  return el;
}

function flagLane(flagged, frames) {
  const row = document.createElement("div");
  row.className = "lane";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = "check";
  row.append(name);
  for (const frame of flagged) {
    const tick = document.createElement("span");
    tick.className = "flag";
    tick.title = `the check saw a possible face at frame ${frame + 1}`;
    tick.style.left = pct(frame, frames);
    row.append(tick);
  }
  row.addEventListener("mousedown", (event) => showFrame(frameAt(event, row, frames)));
  return row;
}

function frameAt(event, row, frames) {
  const r = row.getBoundingClientRect();
  return Math.max(0, Math.min(frames - 1, Math.floor(((event.clientX - r.left) / r.width) * frames)));
}

function moveCursor() {
  const f = page.file;
  if (!isVideo()) return;
  const lanes = $("tracks").getBoundingClientRect();
  const box = $("timeline").getBoundingClientRect();
  const left = lanes.left + 90 + ((lanes.width - 100) * (video.frame + 0.5)) / f.frames - box.left;
  $("cursor").style.left = `${left}px`;
}

function selectTrack(id) {
  page.selectedTrack = id;
  if (isUnsureTrack(trackOf(id))) lookedAt().add(id);
  drawTimeline();
  drawRegions();
  updateButtons();
}

// ---- editing ------------------------------------------------------------------------------------------------

function tracksBody() {
  return page.tracks.map((t) =>
    t.origin === "person" ? { id: t.id, keyframes: t.keyframes } : { id: t.id, removed: !!t.removed, trim: t.trim },
  );
}

function setKeyframe(id, box) {
  // A new track when `id` is null; else this frame becomes (or stays) one of the track's keyframes.
  change(() => {
    const key = [video.frame, ...box];
    if (id === null) {
      page.tracks.push({ id: null, origin: "person", keyframes: [key], first: video.frame, last: video.frame });
      page.pendingSelect = true;
    } else {
      const t = trackOf(id);
      t.keyframes = t.keyframes.filter((k) => k[0] !== video.frame).concat([key]).sort((a, b) => a[0] - b[0]);
    }
  });
}

export function removeTrack() {
  const t = trackOf(page.selectedTrack);
  if (!t) return;
  change(() => {
    if (t.origin === "person") {
      page.tracks = page.tracks.filter((x) => x !== t);
      page.selectedTrack = null;
    } else {
      t.removed = !t.removed; // a removed track comes back with a second press
    }
  });
}

function trim(end) {
  const t = trackOf(page.selectedTrack);
  if (!t || t.origin !== "detector") return;
  change(() => {
    const [a, b] = t.trim || [t.first, t.last];
    t.trim = end ? [Math.min(a, video.frame), video.frame] : [video.frame, Math.max(b, video.frame)];
  });
}

async function follow() {
  const t = trackOf(page.selectedTrack);
  if (!t || t.origin !== "person" || t.id === null) return;
  $("filestate").textContent = "Following…";
  const { status, data } = await post(`/api/files/${page.file.index}/follow`, { track: t.id, frame: video.frame, count: 60 });
  if (status !== 200) {
    $("filestate").textContent = (data && data.error) || "Could not follow";
    return;
  }
  const proposed = data.proposed;
  if (!proposed.length) {
    $("filestate").textContent = "The tracker lost it at once: add keyframes by hand";
    return;
  }
  // Every fifth proposed box and the last become keyframes (one change: Undo drops them all).
  change(() => {
    const keep = proposed.filter((p, i) => i % 5 === 4 || i === proposed.length - 1);
    const frames = new Set(keep.map((k) => k[0]));
    t.keyframes = t.keyframes.filter((k) => !frames.has(k[0])).concat(keep).sort((a, b) => a[0] - b[0]);
  });
  $("filestate").textContent = `Followed ${proposed.length} frames: step through to check; Undo drops them`;
}

export async function saveVideo(body, index) {
  const { status, data } = await post(`/api/files/${index}`, { ...body, tracks: tracksBody(), ...soundBody() });
  if (data && data.revision !== undefined) page.revisions.set(index, data.revision);
  if (page.current !== index) return;
  if (status === 409) {
    page.history.delete(index);
    $("filestate").textContent = "Changed in another tab: showing the latest.";
  } else if (status !== 200) {
    $("filestate").textContent = `Not saved: ${(data && data.error) || status}`;
  }
  const fresh = status === 200 || status === 409 ? data : await getJSON(`/api/files/${index}`);
  page.tracks = fresh.tracks.map(copyTrack);
  setFile(fresh);
  takeSound(fresh);
  if (page.pendingSelect) {
    const mine = page.tracks.filter((t) => t.origin === "person");
    page.selectedTrack = mine.length ? Math.max(...mine.map((t) => t.id)) : null;
    page.pendingSelect = false;
  }
  if (status === 200) $("filestate").textContent = fresh.approved ? "" : "Saved";
  drawTimeline();
  await showFrame(video.frame, true);
}

// ---- mouse and keys -----------------------------------------------------------------------------------------

export function videoDown(event, x, y) {
  if (searching()) return;
  const regionEl = event.target.closest(".region");
  if (regionEl) {
    const id = Number(regionEl.dataset.track);
    if (page.selectedTrack !== id) selectTrack(id);
    const t = trackOf(id);
    if (!t || t.origin !== "person") return;
    const box = JSON.parse(regionEl.dataset.box);
    page.drag = { kind: event.target.dataset.corner ? "resize" : "move", corner: event.target.dataset.corner, x, y, box, track: id };
    return;
  }
  const t = trackOf(page.selectedTrack);
  if (t && t.origin !== "person") selectTrack(null);
  page.drag = { kind: "draw", x, y };
}

export function videoUp(d, raw, box, big) {
  if (d.kind === "draw") {
    const t = trackOf(page.selectedTrack);
    if (big) setKeyframe(t && t.origin === "person" ? t.id : null, box);
    return;
  }
  const same = raw.every((v, i) => Math.abs(v - d.box[i]) < 0.5);
  if (!same && big) setKeyframe(d.track, box);
  else drawRegions();
}

export function videoKey(event) {
  const key = event.key;
  if (["[", "]", "t", "T", "Delete", "Backspace"].includes(key) && searching()) return true;
  const steps = { ArrowLeft: -1, ArrowRight: 1 };
  if (key in steps) { step(steps[key] * (event.shiftKey ? 10 : 1)); return true; }
  if (soundKey(key)) return true;
  const actions = {
    "[": () => trim(false), "]": () => trim(true), t: follow, T: follow,
    Delete: removeTrack, Backspace: removeTrack,
    Home: () => showFrame(0), End: () => showFrame(page.file.frames - 1),
    Escape: () => selectTrack(null),
  };
  if (actions[key]) { actions[key](); return true; }
  return false;
}

export function videoButtons() {
  const t = trackOf(page.selectedTrack);
  $("delete").disabled = !t;
  $("delete").textContent = t && t.removed ? "Restore" : "Remove";
  $("trimstart").disabled = $("trimend").disabled = !(t && t.origin === "detector");
  $("follow").disabled = !(t && t.origin === "person" && t.id !== null);
  updateSoundButtons();
}

document.addEventListener("DOMContentLoaded", () => {
  $("back").addEventListener("click", () => step(-1));
  $("forward").addEventListener("click", () => step(1));
  $("scrub").addEventListener("input", () => showFrame(Number($("scrub").value)));
  $("trimstart").addEventListener("click", () => trim(false));
  $("trimend").addEventListener("click", () => trim(true));
  $("follow").addEventListener("click", follow);
  window.addEventListener("resize", moveCursor);
});
