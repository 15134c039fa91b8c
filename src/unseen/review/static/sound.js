// A video's sound on the review page: where speech is heard (the server listens; this only draws what it is
// given), the voice setting chosen for the video, and the spans a person marks to silence ("Silence from here"
// and "…to here" at the frame shown, S and E, or a drag along the "silenced" lane). Changes go through the
// page's change(): saved at once with the video's tracks, undone with Ctrl+Z.
import { $, button, change, getJSON, page } from "./review.js";
import { searching, showFrame, video } from "./video.js";

export const sound = {
  voice: "keep", // the setting shown (the review's --voice until one is chosen)
  silence: [], // [[start, end], ...] seconds on a player's clock, as the regions file keeps them
  speech: null, // {streams, spans} from the server; null while it listens
  unheard: null, // why the sound could not be listened to
  seconds: 0, // the video's length, frames / fps
  mark: null, // [start, until] of the frame a span was started at, until its end is marked
  index: null, // the video these are of
};

export function takeSound(data) {
  // The server's view of the video's sound (after opening, a save, or a refresh).
  if (sound.index !== data.index) { // another video: a span started on the one before is forgotten
    sound.index = data.index;
    sound.mark = null;
    $("marking").textContent = "";
  }
  sound.voice = data.voice || "keep";
  sound.silence = (data.silence || []).map((s) => s.slice());
  sound.speech = data.speech || null;
  sound.unheard = data.unheard || null;
  sound.seconds = data.seconds || data.frames / data.fps;
  $("voice").value = sound.voice;
  $("soundbar").hidden = hasNoSound();
  drawSpans();
}

export function clearSound() {
  sound.index = null;
  sound.mark = null;
  sound.speech = null;
  sound.silence = [];
  $("soundbar").hidden = true;
  $("marking").textContent = "";
}

function hasNoSound() {
  return !!(sound.speech && sound.speech.streams === 0);
}

export function soundSnapshot() {
  return { silence: sound.silence.map((s) => s.slice()), voice: sound.voice };
}

export function restoreSound(snap) {
  sound.silence = snap.silence;
  sound.voice = snap.voice;
  $("voice").value = sound.voice;
}

export function soundBody() {
  return { silence: sound.silence, voice: sound.voice };
}

// ---- marking a span ----------------------------------------------------------------------------------------

async function frameSeconds(k) {
  // When frame k is shown and when the next one is, on a player's clock (the server reads the frames' times).
  const at = await getJSON(`/api/files/${page.file.index}/at/${k}`);
  return at.seconds;
}

export async function markStart() {
  if (!canEdit()) return;
  const index = page.current;
  const at = await frameSeconds(video.frame);
  if (page.current !== index) return;
  sound.mark = at;
  $("marking").textContent = `Silencing from ${clock(at[0])}: go to its end, press E`;
  drawSoundLanes();
  updateSoundButtons();
}

export async function markEnd() {
  if (!canEdit()) return;
  if (!sound.mark) {
    $("marking").textContent = "First Silence from here (S) where the span starts";
    return;
  }
  const index = page.current;
  const at = await frameSeconds(video.frame);
  if (page.current !== index || !sound.mark) return;
  // Both frames are silenced whole, whichever was marked first.
  const span = [Math.min(sound.mark[0], at[0]), Math.max(sound.mark[1], at[1])];
  sound.mark = null;
  $("marking").textContent = `Silenced ${clock(span[0])}–${clock(span[1])}`;
  change(() => { sound.silence = sound.silence.concat([span]).sort((a, b) => a[0] - b[0]); });
}

function removeSpan(k) {
  if (!canEdit()) return;
  const [a, b] = sound.silence[k];
  change(() => { sound.silence = sound.silence.filter((_s, i) => i !== k); });
  $("marking").textContent = `No longer silenced: ${clock(a)}–${clock(b)}`;
}

function chooseVoice() {
  const chosen = $("voice").value;
  if (!canEdit() || chosen === sound.voice) { $("voice").value = sound.voice; return; }
  change(() => { sound.voice = chosen; });
}

function canEdit() {
  return !!page.file && page.file.kind === "video" && !searching();
}

// ---- drawing -----------------------------------------------------------------------------------------------

export function clock(t) {
  const m = Math.floor(t / 60);
  const s = (t - 60 * m).toFixed(2).padStart(5, "0");
  return `${m}:${s}`;
}

function frameOf(t) {
  const f = page.file;
  return Math.max(0, Math.min(f.frames - 1, Math.floor((t / sound.seconds) * f.frames)));
}

function drawSpans() {
  const items = sound.silence.map(([a, b], k) => {
    const li = document.createElement("li");
    li.append(
      button(`${clock(a)}–${clock(b)}`, () => showFrame(frameOf(a)), `Go to the silenced span ${clock(a)}–${clock(b)}`),
      button("✕", () => removeSpan(k), `Remove the silenced span ${clock(a)}–${clock(b)}`),
    );
    li.lastChild.className = "remove";
    return li;
  });
  $("spans").replaceChildren(...items);
}

export function drawSoundLanes() {
  // The "speech" and "silenced" lanes above the tracks (none for a video without sound).
  drawSpans();
  if (!page.file || hasNoSound()) { $("sound").replaceChildren(); return; }
  $("sound").replaceChildren(speechLane(), silenceLane());
}

function pct(t) {
  return `${(100 * Math.max(0, Math.min(t, sound.seconds))) / sound.seconds}%`;
}

function bar(kind, a, b, title) {
  const el = document.createElement("span");
  el.className = `bar ${kind}`;
  el.style.left = pct(a);
  el.style.width = pct(Math.min(b, sound.seconds) - a);
  if (title) el.title = title;
  return el;
}

function lane(name, label) {
  const row = document.createElement("div");
  row.className = `lane ${name}`;
  const caption = document.createElement("span");
  caption.className = "name";
  caption.textContent = label;
  row.append(caption);
  return row;
}

function note(row, words) {
  const el = document.createElement("span");
  el.className = "note";
  el.textContent = words;
  row.append(el);
}

function speechLane() {
  const row = lane("speechlane", "speech");
  if (sound.unheard) note(row, `not known: ${sound.unheard}`);
  else if (!sound.speech) note(row, "listening…");
  else if (!sound.speech.spans.length) note(row, "no speech heard");
  for (const [a, b] of sound.speech ? sound.speech.spans : []) row.append(bar("speech", a, b, `speech heard ${clock(a)}–${clock(b)}`));
  row.addEventListener("mousedown", (event) => { event.preventDefault(); showFrame(frameAt(event, row)); });
  return row;
}

function silenceLane() {
  const row = lane("silencelane", "silenced");
  for (const [a, b] of sound.silence) row.append(bar("silence", a, b, `silenced ${clock(a)}–${clock(b)}`));
  if (sound.mark) row.append(bar("marking", sound.mark[0], sound.mark[1], "the span to silence starts here"));
  // A drag along the lane marks a span (a click only moves to that frame).
  row.addEventListener("mousedown", (event) => {
    event.preventDefault();
    const first = frameAt(event, row);
    showFrame(first);
    const seconds = (k) => (k / page.file.frames) * sound.seconds; // for the drawing only: the marks ask the server
    const preview = bar("marking", seconds(first), seconds(first + 1), "");
    row.append(preview);
    const move = (moving) => {
      const k = frameAt(moving, row);
      preview.style.left = pct(seconds(Math.min(first, k)));
      preview.style.width = pct(seconds(Math.abs(k - first) + 1));
    };
    const up = async (done) => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      preview.remove();
      const last = frameAt(done, row);
      if (last === first || !canEdit()) return;
      await markStart();
      await showFrame(last);
      await markEnd();
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  });
  return row;
}

function frameAt(event, row) {
  const r = row.getBoundingClientRect();
  const frames = page.file.frames;
  return Math.max(0, Math.min(frames - 1, Math.floor(((event.clientX - r.left) / r.width) * frames)));
}

export function updateSoundButtons() {
  const editable = canEdit();
  $("silencestart").disabled = !editable;
  $("silenceend").disabled = !editable || !sound.mark;
  $("voice").disabled = !editable;
}

export function soundKey(key) {
  const actions = { s: markStart, S: markStart, e: markEnd, E: markEnd };
  if (!actions[key]) return false;
  actions[key]();
  return true;
}

document.addEventListener("DOMContentLoaded", () => {
  $("voice").addEventListener("change", chooseVoice);
  $("silencestart").addEventListener("click", markStart);
  $("silenceend").addEventListener("click", markEnd);
});
