// The review page: the list of photos, one photo with its regions, editing, approval and publishing.
// Every change is sent at once; the server writes it to the regions file. No library, no build step: ES
// modules as the browser loads them (this one, the page's entry, and video.js, which it imports).
import {
  closeVideo, confirmVideoApproval, drawTimeline, drawVideoRegions, isVideo, keepVideoUnsure, nextVideoUnsure,
  openVideo, refreshVideo, removeTrack, restoreVideo, saveVideo, searching, showFrame, video, videoButtons,
  videoDown, videoFlagbar, videoKey, videoRowChanged, videoSnapshot, videoUp,
} from "./video.js";

export const $ = (id) => document.getElementById(id);
const MIN_SIDE = 2; // image px: a smaller drag is a click, not a region
const ZOOM_STEP = 1.25;
const LABEL_SIDE = 72; // screen px: a region at least this wide shows its label (a smaller one would be hidden by it)
export const UNSURE = 0.5; // a detection scored below this is unsure (obscure.CONFIDENT)
// "Cover" draws a flag's box grown by this share of its size on each side: a person's region is covered by the
// ellipse through its corners, and this one's passes through the corners of the flag's box (√2 its size).
const COVER_MARGIN = (Math.SQRT2 - 1) / 2;

export const page = {
  files: [], // rows from /api/state
  shown: [], // indices listed under the current filter
  current: null, // index of the photo shown
  file: null, // its decisions from the server
  regions: [], // editable copy: {id, box, origin, score, removed}
  tracks: [], // a video's tracks, as the timeline has them (video.js)
  selectedTrack: null,
  selected: -1, // position in page.regions
  history: new Map(), // index -> {undo: [], redo: []} of region lists
  looked: new Map(), // index -> ids of unsure regions (a video: tracks) the person has looked at
  seenFrames: new Map(), // index -> a video's frames the person has shown
  bare: false, // every overlay hidden: the photo (or the preview) as it is
  revisions: new Map(), // index -> the latest revision the server gave: a change queued behind another uses it
  obscured: false,
  scale: 1, tx: 0, ty: 0,
  full: false, // the full-resolution picture is loaded
  space: false,
  drag: null,
  saving: Promise.resolve(),
  unsaved: 0, // changes sent and not yet answered: the page's own copy is the newest meanwhile
  ended: false,
};

// ---- talking to the server ---------------------------------------------------------------------------------

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

export async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Unseen": "1" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  return { status: response.status, data };
}

// ---- the list ----------------------------------------------------------------------------------------------

function needsLook(row) {
  return row.state === "ready" && (!row.approved || (row.residuals || 0) > 0 || (row.flagged || 0) > 0);
}

function describe(row) {
  if (row.state === "waiting") return [["searching…", ""]];
  if (row.state === "searching") return [[`searching… ${row.searched || 0}%`, ""], [`${row.faces} tracks so far`, ""]];
  if (row.state === "failed") return [[row.reason || "cannot be reviewed", "bad"]];
  const badges = [];
  if (row.kind === "video") return videoBadges(row);
  badges.push([row.faces === 1 ? "1 region" : `${row.faces} regions`, ""]);
  if (row.found === 0 && row.faces === 0) badges.push(["no face found", "look"]);
  if (row.low > 0) badges.push([`${row.low} unsure`, "look"]);
  if (row.residuals === null) badges.push(["checking…", ""]);
  else if (row.residuals > 0) badges.push([`${row.residuals} possible face${row.residuals > 1 ? "s" : ""} to answer`, "bad"]);
  if (row.answered > 0) badges.push([`${row.answered} flag${row.answered > 1 ? "s" : ""} answered`, "ok"]);
  badges.push(row.approved ? ["approved", "ok"] : ["not approved", "look"]);
  return badges.concat(publishedBadges(row));
}

function videoBadges(row) {
  const badges = [[row.faces === 1 ? "video, 1 track" : `video, ${row.faces} tracks`, ""]];
  if (row.found === 0 && row.faces === 0) badges.push(["no face found", "look"]);
  if (row.low > 0) badges.push([`${row.low} unsure`, "look"]);
  if (row.checking) badges.push(["checking…", ""]);
  else if (row.flagged > 0) badges.push([`check sees a face in ${row.flagged} frames`, "bad"]);
  badges.push(...voiceBadges(row));
  badges.push(row.approved ? ["approved", "ok"] : ["not approved", "look"]);
  return badges.concat(publishedBadges(row));
}

const VOICES = { keep: "voices kept", disguise: "voices disguised", mute: "voices muted" };

function voiceBadges(row) {
  // What the video's voices get, said where it matters: speech heard, or a setting other than keep.
  if (row.sound === 0) return [];
  const badges = [];
  if (row.speech && row.voice === "keep") badges.push(["speech heard: voices kept", "look"]);
  else if (row.speech || (row.voice && row.voice !== "keep")) badges.push([VOICES[row.voice] || row.voice, "ok"]);
  if (row.silenced > 0) badges.push([`${row.silenced} span${row.silenced > 1 ? "s" : ""} silenced`, ""]);
  return badges;
}

function publishedBadges(row) {
  const badges = [];
  if (row.published) {
    const p = row.published;
    if (p.status === "done") badges.push([p.current ? "published" : "published (changed since)", p.current ? "ok" : "look"]);
    else badges.push([`not published: ${p.reason || p.status}`, "bad"]);
  }
  return badges;
}

function renderList() {
  const list = $("list");
  const onlyLook = $("filter").checked;
  page.shown = page.files.filter((row) => !onlyLook || needsLook(row) || row.index === page.current).map((r) => r.index);
  const wanted = new Set(page.shown);
  for (const li of Array.from(list.children)) {
    if (!wanted.has(Number(li.dataset.index))) li.remove();
  }
  let before = null;
  for (let k = page.shown.length - 1; k >= 0; k--) {
    const row = page.files[page.shown[k]];
    let li = list.querySelector(`li[data-index="${row.index}"]`);
    if (!li) li = makeRow(row);
    if (li.nextSibling !== before || li.parentNode !== list) list.insertBefore(li, before);
    updateRow(li, row);
    before = li;
  }
}

function makeRow(row) {
  const li = document.createElement("li");
  li.dataset.index = row.index;
  const button = document.createElement("button");
  button.type = "button";
  button.addEventListener("click", () => openFile(row.index));
  const thumb = document.createElement("span");
  thumb.className = "nothumb";
  const text = document.createElement("span");
  const name = document.createElement("span");
  name.className = "name";
  const meta = document.createElement("span");
  meta.className = "meta";
  const folder = document.createElement("span");
  folder.className = "folder";
  text.append(name, meta, folder);
  button.append(thumb, text);
  li.append(button);
  return li;
}

function updateRow(li, row) {
  const button = li.firstChild;
  button.setAttribute("aria-current", row.index === page.current ? "true" : "false");
  const [thumb, text] = button.children;
  const cut = row.name.lastIndexOf("/");
  text.children[0].textContent = row.name.slice(cut + 1);
  text.children[0].title = row.name;
  text.children[2].textContent = cut > 0 ? row.name.slice(0, cut) : "";
  const key = describe(row).map((b) => b.join(":")).join("|");
  if (text.children[1].dataset.key !== key) {
    text.children[1].dataset.key = key;
    text.children[1].replaceChildren(...describe(row).map(([label, kind]) => {
      const b = document.createElement("span");
      b.className = `badge ${kind}`;
      b.textContent = label;
      return b;
    }));
  }
  if ((row.state === "ready" || row.state === "searching") && thumb.tagName !== "IMG") {
    const img = document.createElement("img");
    img.alt = "";
    img.src = `/api/files/${row.index}/thumb`;
    thumb.replaceWith(img);
  }
}

function renderProgress(state) {
  const total = state.files.length;
  const ready = state.files.filter((r) => r.state === "ready").length;
  const approved = state.files.filter((r) => r.approved).length;
  const parts = [`${total} file${total === 1 ? "" : "s"}`, `${approved} approved`];
  if (state.waiting > 0) parts.push(`searching: ${total - state.waiting} of ${total} done`);
  else parts.push(`${ready} ready to review`);
  if (state.checking > 0) parts.push(`checking ${state.checking}`);
  const p = state.publishing;
  if (p.running) parts.push(`publishing ${p.done} of ${p.total}…`);
  $("progress").textContent = parts.join(" · ");
  $("publish").disabled = p.running || approved === 0;
  $("publish").textContent = p.running ? "Publishing…" : `Publish approved (${approved})`;
}

function renderResults() {
  const rows = page.files.filter((r) => r.published || r.held);
  $("results").hidden = rows.length === 0;
  $("resultlist").replaceChildren(...rows.map((r) => {
    const li = document.createElement("li");
    const p = r.published;
    if (r.held) li.textContent = `${r.name}: not written: ${r.held}`;
    else li.textContent = p.status === "done"
      ? `${r.name}: written${p.verdict === "residuals" ? `, but ${p.reason || "the check found a possible face"}: look again` : ", checked"}`
      : `${r.name}: not written (${p.reason || p.status})`;
    return li;
  }));
}

async function poll() {
  if (page.ended) return;
  const state = await refreshState();
  if (state === null) return;
  if (state.finished) { showEnded(); return; }
  const busy = state.waiting > 0 || state.checking > 0 || state.publishing.running;
  setTimeout(poll, page.file === null ? 150 : busy ? 700 : 3000); // quickly until the first photo is there
}

async function refreshState() {
  // The list as the server has it now (also right after an edit, so that its row is current at once).
  let state = null;
  try {
    state = await getJSON("/api/state");
  } catch (_) {
    $("progress").textContent = "The review server has stopped. Your decisions are saved.";
    return null;
  }
  const previous = page.current === null ? null : page.files[page.current];
  page.files = state.files;
  renderProgress(state);
  renderList();
  renderResults();
  if (page.current === null) {
    const first = page.files.find((r) => r.state === "ready" || r.state === "searching");
    if (first) openFile(first.index);
  } else if (previous && previous.state !== "ready" && page.files[page.current].state === "ready") {
    openFile(page.current);
  } else if (isVideo() && videoRowChanged(page.files[page.current], previous)) {
    refreshVideo(); // tracks found while the video is searched, or what the check found
  } else if (page.file && !isVideo() && page.unsaved === 0 && !page.drag && serverUnapproved(page.files[page.current])) {
    reloadFile(); // the check found a face in a file approved before it looked: it needs a look again
  } else if (page.file && page.files[page.current].residuals !== (previous || {}).residuals) {
    refreshResiduals();
  }
  return state;
}

function serverUnapproved(row) {
  return row.revision > page.file.revision && page.file.approved && !row.approved;
}

async function reloadFile() {
  const index = page.current;
  const data = await getJSON(`/api/files/${index}`);
  if (index !== page.current || !page.file || page.unsaved > 0 || data.revision <= page.file.revision) return;
  const selected = page.selected;
  setFile(data);
  page.selected = selected < page.regions.length ? selected : -1;
  drawRegions();
  updateButtons();
}

async function refreshResiduals() {
  const index = page.current;
  const data = await getJSON(`/api/files/${index}`);
  if (index !== page.current || !page.file || data.revision !== page.file.revision) return;
  page.file.residuals = data.residuals;
  drawRegions();
}

// ---- one photo ---------------------------------------------------------------------------------------------

async function openFile(index) {
  page.current = index;
  page.selected = -1;
  if ($("photo").dataset.file !== String(index)) {
    // Another file's picture and regions go at once: never one file's regions over another's pixels while
    // the new picture loads.
    clearPicture();
    page.file = null;
    page.regions = [];
    drawRegions();
  }
  renderList();
  const row = page.files[index];
  const data = await getJSON(`/api/files/${index}`);
  if (page.current !== index) return;
  $("empty").hidden = true;
  if (data.state === "searching" && data.kind === "video") {
    page.full = false;
    openVideo(data); // frames and the tracks found so far: to look at, not to change yet
    return;
  }
  if (data.state !== "ready") {
    page.file = null;
    page.regions = [];
    clearPicture();
    $("filestate").textContent = data.state === "waiting" ? "still being searched…" : data.reason || "";
    drawRegions();
    return;
  }
  page.full = false;
  if (data.kind === "video") {
    openVideo(data);
  } else {
    closeVideo();
    setFile(data);
    fit();
    loadPicture(false);
  }
  const li = $("list").querySelector(`li[data-index="${index}"]`);
  if (li) li.scrollIntoView({ block: "nearest" });
  if (row) $("stage").focus({ preventScroll: true });
}

export function setFile(data) {
  page.file = data;
  page.revisions.set(data.index, data.revision);
  page.regions = (data.regions || []).map((r) => ({
    id: r.id,
    box: r.shown.slice(),
    origin: r.origin,
    score: r.score,
    removed: !!r.removed,
    check: r.check || null,
  }));
  if (page.selected >= page.regions.length) page.selected = -1;
  const canvas = $("canvas");
  canvas.style.width = `${data.width}px`;
  canvas.style.height = `${data.height}px`;
  $("filestate").textContent = "";
  $("approve").textContent = data.approved ? "Approved ✓" : "Approve";
  drawRegions();
  updateButtons();
}

function pictureURL(full) {
  const f = page.file;
  return `/api/files/${f.index}/view?full=${full ? 1 : 0}&obscured=${page.obscured ? 1 : 0}&rev=${f.revision}`;
}

function loadPicture(full) {
  const url = pictureURL(full);
  const img = new Image();
  const index = page.current;
  img.onload = () => {
    if (page.current !== index || !page.file || pictureURL(full) !== url) return; // another file opened since
    showPicture(index, url);
    page.full = full;
  };
  img.src = url;
}

export function showPicture(index, url) {
  // The picture shown, marked with the file it belongs to (openFile clears it when another file is opened).
  const photo = $("photo");
  photo.src = url;
  photo.dataset.file = String(index);
}

function clearPicture() {
  const photo = $("photo");
  photo.removeAttribute("src");
  delete photo.dataset.file;
}

function wantFull() {
  // Past the downscaled view's own resolution, the full-resolution picture is fetched.
  const f = page.file;
  if (!f || isVideo()) return; // a video's frames come at view size only
  const viewSide = Math.min(1600, Math.max(f.width, f.height));
  if (!page.full && page.scale * Math.max(f.width, f.height) > viewSide * 1.05) loadPicture(true);
}

export function drawRegions() {
  const canvas = $("canvas");
  for (const el of Array.from(canvas.querySelectorAll(".region, .residual, .drawing"))) el.remove();
  if (!page.file) return;
  if (isVideo()) {
    drawVideoRegions(canvas);
    return;
  }
  page.regions.forEach((r, k) => {
    const classes = [`region ${r.origin}`];
    if (r.removed) classes.push("removed");
    if (isUnsure(r)) classes.push("low");
    if (r.check && r.removed) classes.push("dismissed");
    if (k === page.selected) classes.push("selected");
    const label = regionLabel(r);
    const el = boxElement(classes.join(" "), r.box, true, label, k === page.selected && !r.removed);
    el.dataset.k = k;
    canvas.append(el);
  });
  (page.file.residuals || []).forEach((res, i) => {
    const el = boxElement("residual", res.box, false, `possible face ${i + 1}`, false);
    el.title = "The check still sees a possible face here: click to cover it (or answer it above the photo)";
    el.dataset.flag = i;
    canvas.append(el);
  });
  sizeLabels();
  renderFlagbar();
}

function regionLabel(r) {
  if (r.check) return r.removed ? "not a face" : "flag covered";
  if (r.removed) return "removed";
  return r.origin === "person" ? "added" : `${Math.round(r.score * 100)}%`;
}

function isUnsure(r) {
  return r.origin === "detector" && !r.removed && r.score < UNSURE;
}

function sizeLabels() {
  // A label shows where it hides little: on a region wide enough on the screen (else on hover or selection).
  for (const el of $("canvas").querySelectorAll(".region")) {
    el.classList.toggle("big", el.offsetWidth * page.scale >= LABEL_SIDE);
  }
}

// ---- what needs an answer: the check's flags and the unsure detections -------------------------------------

export function lookedAt(index = page.current) {
  if (!page.looked.has(index)) page.looked.set(index, new Set());
  return page.looked.get(index);
}

function unsureNotLooked() {
  const seen = lookedAt();
  return page.regions.map((r, k) => k).filter((k) => isUnsure(page.regions[k]) && !seen.has(page.regions[k].id));
}

export function renderFlagbar() {
  const bar = $("flagbar");
  if (!page.file) { bar.hidden = true; return; }
  if (isVideo()) { videoFlagbar(bar); return; }
  const parts = [];
  const flags = page.file.residuals || [];
  if (flags.length) {
    parts.push(text(`The check still sees ${flags.length} possible face${flags.length > 1 ? "s" : ""} (orange): answer each before approving.`, "flagtext"));
    flags.forEach((_res, i) => {
      const group = document.createElement("span");
      group.className = "flag";
      group.append(text(`${i + 1}:`), button("Cover", () => answerFlag(i, "covered"), `Cover possible face ${i + 1}`),
        button("Not a face", () => answerFlag(i, "not a face"), `Possible face ${i + 1} is not a face`));
      parts.push(group);
    });
  }
  const unsure = page.regions.filter(isUnsure).length;
  if (unsure) {
    const left = unsureNotLooked().length;
    parts.push(text(`${unsure} unsure (dashed)${left ? `, ${left} not looked at` : ", all looked at"}:`, "unsuretext"));
    parts.push(button("Review unsure one by one (U)", nextUnsure), button("Keep all unsure (K)", keepAllUnsure));
  }
  bar.replaceChildren(...parts);
  bar.hidden = parts.length === 0;
}

export function text(words, className = "") {
  const span = document.createElement("span");
  span.textContent = words;
  if (className) span.className = className;
  return span;
}

export function button(label, action, title = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (title) b.title = title;
  b.addEventListener("click", action);
  return b;
}

function answerFlag(i, answer) {
  // Covered: a person's region over the check's box (a little larger); not a face: the check's box on record.
  const res = (page.file.residuals || [])[i];
  if (!res) return;
  const [x1, y1, x2, y2] = res.box;
  const mx = (x2 - x1) * COVER_MARGIN, my = (y2 - y1) * COVER_MARGIN;
  const box = answer === "covered" ? clip([x1 - mx, y1 - my, x2 + mx, y2 + my]) : clip(res.box);
  const check = { box: res.box, score: res.score, answer };
  change(() => {
    page.file.residuals = page.file.residuals.filter((_r, j) => j !== i);
    page.regions.push({ id: null, box, origin: "person", score: 1, removed: answer !== "covered", check });
    page.selected = -1;
  });
  $("filestate").textContent = answer === "covered" ? "Covered" : "Marked not a face";
}

function nextUnsure() {
  // The next unsure region not looked at (or, all looked at, the one after the selected), shown up close.
  if (isVideo()) { nextVideoUnsure(); return; }
  const all = page.regions.map((r, k) => k).filter((k) => isUnsure(page.regions[k]));
  if (!all.length) { $("filestate").textContent = "No unsure region here"; return; }
  const left = unsureNotLooked();
  const k = left.length ? left[0] : all[(all.indexOf(page.selected) + 1) % all.length];
  page.selected = k;
  lookedAt().add(page.regions[k].id);
  focusOn(page.regions[k].box);
  drawRegions();
  updateButtons();
  const remaining = unsureNotLooked().length;
  $("filestate").textContent = `Unsure ${all.indexOf(k) + 1} of ${all.length}: Delete removes it, U goes on (${remaining} not looked at)`;
}

function keepAllUnsure() {
  if (isVideo()) { keepVideoUnsure(); return; }
  const seen = lookedAt();
  const unsure = page.regions.filter(isUnsure);
  for (const r of unsure) seen.add(r.id);
  $("filestate").textContent = unsure.length ? `Keeping all ${unsure.length} unsure regions: they will be covered` : "No unsure region here";
  renderFlagbar();
}

function confirmApproval() {
  // Asked once: what the check flags is answered first; unsure regions not looked at are approved knowingly.
  if (!page.file || page.file.approved) return true;
  if (isVideo()) return confirmVideoApproval();
  const flags = (page.file.residuals || []).length;
  if (flags) {
    $("filestate").textContent = `Not approved: answer the ${flags} possible face${flags > 1 ? "s" : ""} the check still sees (Cover or Not a face)`;
    return false;
  }
  const left = unsureNotLooked();
  if (!left.length) return true;
  const many = left.length > 1;
  const ok = window.confirm(`${left.length} unsure region${many ? "s" : ""} you have not looked at will be covered as ${many ? "they are" : "it is"}. Approve anyway?\n\n(Cancel, then U to look at them one by one, or K to keep them all.)`);
  if (ok) keepAllUnsure();
  return ok;
}

function focusOn(box) {
  // The box centred, large enough to judge (a quarter of the stage), never smaller than the whole photo.
  const stage = $("stage").getBoundingClientRect();
  const side = Math.max(box[2] - box[0], box[3] - box[1], 1);
  page.scale = Math.min(Math.max(Math.min(stage.width, stage.height) / (4 * side), fitScale()), 16);
  page.tx = stage.width / 2 - ((box[0] + box[2]) / 2) * page.scale;
  page.ty = stage.height / 2 - ((box[1] + box[3]) / 2) * page.scale;
  applyView();
}

function toggleBare() {
  page.bare = !page.bare;
  $("canvas").classList.toggle("bare", page.bare);
  $("bare").setAttribute("aria-pressed", String(page.bare));
}

export function boxElement(className, box, inside, label, handles) {
  // A box drawn over the photo: a region (photo or video frame) or a residual, with its label and, when it is
  // selected and can be resized, a handle at each corner.
  const el = document.createElement("div");
  el.className = className;
  place(el, box, inside);
  const text = document.createElement("span");
  text.className = "label";
  text.textContent = label;
  el.append(text);
  for (const corner of handles ? ["nw", "ne", "sw", "se"] : []) {
    const h = document.createElement("span");
    h.className = `handle ${corner}`;
    h.dataset.corner = corner;
    el.append(h);
  }
  return el;
}

function place(el, box, inside = false) {
  // `inside`: drawn within the photo (a detection's covered area may reach past an edge; its label stays seen).
  if (inside && page.file) box = clip(box);
  el.style.left = `${box[0]}px`;
  el.style.top = `${box[1]}px`;
  el.style.width = `${Math.max(box[2] - box[0], 1)}px`;
  el.style.height = `${Math.max(box[3] - box[1], 1)}px`;
}

export function updateButtons() {
  const f = page.file;
  const h = f ? historyOf(f.index) : { undo: [], redo: [] };
  $("undo").disabled = !h.undo.length;
  $("redo").disabled = !h.redo.length;
  $("delete").disabled = page.selected < 0;
  const chosen = page.regions[page.selected];
  $("delete").textContent = chosen && chosen.removed ? "Restore" : "Remove"; // a removed detection comes back
  $("approve").disabled = !f;
  $("mode").disabled = !f;
  const position = page.shown.indexOf(page.current);
  $("prev").disabled = position <= 0;
  $("next").disabled = position < 0 || position >= page.shown.length - 1;
  if (isVideo()) videoButtons();
}

// ---- the view: zoom and pan --------------------------------------------------------------------------------

function applyView() {
  const canvas = $("canvas");
  canvas.style.transform = `translate(${page.tx}px, ${page.ty}px) scale(${page.scale})`;
  canvas.style.setProperty("--px", String(1 / page.scale));
  canvas.classList.toggle("pixels", page.scale >= 3);
  sizeLabels();
  wantFull();
}

function fitScale() {
  const stage = $("stage").getBoundingClientRect();
  return Math.min(stage.width / page.file.width, stage.height / page.file.height) * 0.98;
}

export function fit() {
  if (!page.file) return;
  const stage = $("stage").getBoundingClientRect();
  const s = fitScale();
  page.scale = s;
  page.tx = (stage.width - page.file.width * s) / 2;
  page.ty = (stage.height - page.file.height * s) / 2;
  applyView();
}

function zoomAt(factor, cx, cy) {
  const s = Math.min(Math.max(page.scale * factor, 0.02), 16);
  page.tx = cx - ((cx - page.tx) * s) / page.scale;
  page.ty = cy - ((cy - page.ty) * s) / page.scale;
  page.scale = s;
  applyView();
}

function actualSize() {
  const stage = $("stage").getBoundingClientRect();
  zoomAt(1 / page.scale, stage.width / 2, stage.height / 2);
}

function toImage(event) {
  const stage = $("stage").getBoundingClientRect();
  return [(event.clientX - stage.left - page.tx) / page.scale, (event.clientY - stage.top - page.ty) / page.scale];
}

// ---- editing -----------------------------------------------------------------------------------------------

function historyOf(index) {
  if (!page.history.has(index)) page.history.set(index, { undo: [], redo: [] });
  return page.history.get(index);
}

function snapshot() {
  if (isVideo()) return videoSnapshot();
  return page.regions.map((r) => ({ ...r, box: r.box.slice() }));
}

export function change(mutate) {
  const h = historyOf(page.current);
  h.undo.push(snapshot());
  h.redo = [];
  mutate();
  save();
}

function save(extra = {}) {
  const f = page.file;
  const index = page.current;
  $("filestate").textContent = "Saving…"; // until the server has it (the regions file is written)
  if (isVideo()) {
    drawTimeline();
    page.unsaved += 1; // a refresh meanwhile must not put the server's older copy over this change
    page.saving = page.saving.then(async () => {
      const revision = page.revisions.get(index) ?? f.revision;
      await saveVideo({ revision, ...extra }, index).finally(() => { page.unsaved -= 1; });
      updateButtons();
      refreshState();
    });
    return page.saving;
  }
  const body = {
    revision: f.revision,
    regions: page.regions.map((r) => (r.origin === "detector" ? { id: r.id, removed: r.removed } : { id: r.id, box: r.box, check: r.check })),
    ...extra,
  };
  drawRegions();
  updateButtons();
  page.unsaved += 1;
  page.saving = page.saving.then(async () => {
    body.revision = page.revisions.get(index) ?? body.revision;
    const { status, data } = await post(`/api/files/${index}`, body).finally(() => { page.unsaved -= 1; });
    if (data && data.revision !== undefined) page.revisions.set(index, data.revision);
    if (page.current !== index) return;
    if (status === 409) {
      setFile(data);
      page.history.delete(index);
      $("filestate").textContent = "Changed in another tab: showing the latest.";
    } else if (status !== 200) {
      $("filestate").textContent = `Not saved: ${(data && data.error) || status}`;
      const again = await getJSON(`/api/files/${index}`);
      setFile(again);
    } else {
      const selected = page.selected;
      setFile(data);
      page.selected = selected < page.regions.length ? selected : -1;
      $("filestate").textContent = data.approved ? "" : "Saved";
      drawRegions();
    }
    if (page.obscured) loadPicture(page.full);
    updateButtons();
    refreshState();
  });
  return page.saving;
}

function addRegion(box) {
  change(() => {
    page.regions.push({ id: null, box, origin: "person", score: 1, removed: false });
    page.selected = page.regions.length - 1;
  });
}

function removeSelected() {
  if (isVideo()) {
    removeTrack();
    return;
  }
  const k = page.selected;
  if (k < 0) return;
  change(() => {
    const r = page.regions[k];
    if (r.origin === "detector") {
      r.removed = !r.removed; // a removed detection comes back with a second press
    } else {
      page.regions.splice(k, 1);
      page.selected = -1;
    }
  });
}

function moved(k, box) {
  // A detection a person moves or resizes becomes their region; the detection stays on record as removed.
  change(() => {
    const r = page.regions[k];
    if (r.origin === "detector") {
      r.removed = true;
      page.regions.push({ id: null, box, origin: "person", score: 1, removed: false });
      page.selected = page.regions.length - 1;
    } else {
      r.box = box;
    }
  });
}

function undo(redo) {
  const h = historyOf(page.current);
  const from = redo ? h.redo : h.undo;
  const to = redo ? h.undo : h.redo;
  if (!from.length) return;
  to.push(snapshot());
  if (isVideo()) {
    restoreVideo(from.pop());
    $("marking").textContent = redo ? "Redone" : "Undone"; // its last line ("Silenced …") may no longer be true
  } else page.regions = from.pop();
  page.selected = -1;
  save();
}

async function approve() {
  if (!page.file || (isVideo() && searching())) return;
  if (!confirmApproval()) return;
  const index = page.current;
  await save({ approved: true });
  if (page.current === index && page.file && page.file.approved) {
    const row = page.files[index];
    if (row) row.approved = true;
    go(1);
  }
}

function go(step) {
  const position = page.shown.indexOf(page.current);
  const next = page.shown[position + step];
  if (next !== undefined) openFile(next);
}

function toggleMode() {
  if (!page.file) return;
  page.obscured = !page.obscured;
  $("mode").setAttribute("aria-pressed", String(page.obscured));
  $("mode").textContent = page.obscured ? "Show original" : "Show as published";
  if (isVideo()) showFrame(video.frame, true);
  else loadPicture(page.full);
}

// ---- mouse -------------------------------------------------------------------------------------------------

function onDown(event) {
  if (!page.file || page.ended) return;
  const stage = $("stage");
  stage.focus({ preventScroll: true });
  if (event.button === 1 || (event.button === 0 && page.space)) {
    page.drag = { kind: "pan", x: event.clientX, y: event.clientY, tx: page.tx, ty: page.ty };
    stage.classList.add("panning");
    event.preventDefault();
    return;
  }
  if (event.button !== 0) return;
  const target = event.target;
  const [x, y] = toImage(event);
  if (isVideo()) {
    videoDown(event, x, y);
    event.preventDefault();
    return;
  }
  const flag = target.closest(".residual");
  if (flag) {
    answerFlag(Number(flag.dataset.flag), "covered"); // one click covers it
    return;
  }
  const regionEl = target.closest(".region");
  if (regionEl) {
    const k = Number(regionEl.dataset.k);
    const r = page.regions[k];
    if (isUnsure(r)) lookedAt().add(r.id);
    if (page.selected !== k) { page.selected = k; drawRegions(); updateButtons(); }
    if (r.removed) return;
    const corner = target.dataset.corner || null;
    page.drag = { kind: corner ? "resize" : "move", k, corner, x, y, box: r.box.slice() };
    event.preventDefault();
    return;
  }
  if (page.selected >= 0) { page.selected = -1; drawRegions(); updateButtons(); }
  page.drag = { kind: "draw", x, y };
  event.preventDefault();
}

function onMove(event) {
  const d = page.drag;
  if (!d) return;
  if (d.kind === "pan") {
    page.tx = d.tx + event.clientX - d.x;
    page.ty = d.ty + event.clientY - d.y;
    applyView();
    return;
  }
  const [x, y] = toImage(event);
  const box = dragged(d, x, y);
  if (d.kind === "draw") {
    let el = $("canvas").querySelector(".drawing");
    if (!el) { el = document.createElement("div"); el.className = "drawing"; $("canvas").append(el); }
    place(el, box);
  } else {
    const key = d.track !== undefined ? `[data-track="${d.track}"]` : `[data-k="${d.k}"]`;
    const el = $("canvas").querySelector(`.region${key}`);
    if (el) place(el, box, true);
  }
}

function onUp(event) {
  const d = page.drag;
  page.drag = null;
  $("stage").classList.remove("panning");
  if (!d || d.kind === "pan") return;
  const [x, y] = toImage(event);
  const raw = dragged(d, x, y);
  const box = clip(raw);
  const el = $("canvas").querySelector(".drawing");
  if (el) el.remove();
  const big = box[2] - box[0] >= MIN_SIDE && box[3] - box[1] >= MIN_SIDE;
  if (isVideo()) {
    videoUp(d, raw, box, big);
    return;
  }
  if (d.kind === "draw") {
    if (big) addRegion(box);
    return;
  }
  // A click on a region selects it; only a real drag moves it (a detection's box may reach past the edge).
  const same = raw.every((v, i) => Math.abs(v - d.box[i]) < 0.5);
  if (!same && big) moved(d.k, box);
  else drawRegions();
}

function dragged(d, x, y) {
  if (d.kind === "draw") return [Math.min(d.x, x), Math.min(d.y, y), Math.max(d.x, x), Math.max(d.y, y)];
  const b = d.box.slice();
  const dx = x - d.x, dy = y - d.y;
  if (d.kind === "move") return [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];
  if (d.corner.includes("w")) b[0] += dx; else b[2] += dx;
  if (d.corner.includes("n")) b[1] += dy; else b[3] += dy;
  return [Math.min(b[0], b[2]), Math.min(b[1], b[3]), Math.max(b[0], b[2]), Math.max(b[1], b[3])];
}

function clip(box) {
  const w = page.file.width, h = page.file.height;
  const c = (v, hi) => Math.round(Math.min(Math.max(v, 0), hi) * 10) / 10;
  return [c(box[0], w), c(box[1], h), c(box[2], w), c(box[3], h)];
}

function onWheel(event) {
  if (!page.file) return;
  event.preventDefault();
  const stage = $("stage").getBoundingClientRect();
  zoomAt(Math.pow(ZOOM_STEP, -event.deltaY / 100), event.clientX - stage.left, event.clientY - stage.top);
}

// ---- keys --------------------------------------------------------------------------------------------------

function onKey(event) {
  if (page.ended || ["INPUT", "SELECT"].includes(event.target.tagName)) return;
  const key = event.key;
  const ctrl = event.ctrlKey || event.metaKey;
  if (key === " " && !page.space) {
    if (event.target.tagName === "BUTTON") return;
    page.space = true;
    $("stage").classList.add("space");
    event.preventDefault();
    return;
  }
  if (ctrl && (key === "z" || key === "Z")) { undo(event.shiftKey); event.preventDefault(); return; }
  if (ctrl && (key === "y" || key === "Y")) { undo(true); event.preventDefault(); return; }
  if (ctrl || event.altKey) return;
  if (isVideo() && videoKey(event)) {
    event.preventDefault();
    return;
  }
  const stage = $("stage").getBoundingClientRect();
  const actions = {
    n: () => go(1), ArrowRight: () => go(1), p: () => go(-1), ArrowLeft: () => go(-1),
    a: approve, o: toggleMode, f: fit, 1: actualSize, h: toggleBare, u: nextUnsure, k: keepAllUnsure,
    Delete: removeSelected, Backspace: removeSelected,
    "+": () => zoomAt(ZOOM_STEP, stage.width / 2, stage.height / 2),
    "=": () => zoomAt(ZOOM_STEP, stage.width / 2, stage.height / 2),
    "-": () => zoomAt(1 / ZOOM_STEP, stage.width / 2, stage.height / 2),
    Escape: () => { page.selected = -1; drawRegions(); updateButtons(); },
  };
  const action = actions[key] || actions[key.toLowerCase()];
  if (action) { action(); event.preventDefault(); }
}

function onKeyUp(event) {
  if (event.key === " ") { page.space = false; $("stage").classList.remove("space"); }
}

// ---- publishing and the end --------------------------------------------------------------------------------

async function publish() {
  $("publish").disabled = true;
  await page.saving;
  await post("/api/publish", {});
  setTimeout(poll, 200);
}

async function finish() {
  if (!window.confirm("End the review? Your decisions are saved; photos not published are not written.")) return;
  await page.saving;
  await post("/api/finish", {});
  showEnded();
}

function showEnded() {
  page.ended = true;
  $("ended").hidden = false;
}

// ---- start -------------------------------------------------------------------------------------------------

function start() {
  const stage = $("stage");
  stage.addEventListener("mousedown", onDown);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  stage.addEventListener("wheel", onWheel, { passive: false });
  window.addEventListener("keydown", onKey);
  window.addEventListener("keyup", onKeyUp);
  window.addEventListener("resize", () => { if (page.file) fit(); });
  $("prev").addEventListener("click", () => go(-1));
  $("next").addEventListener("click", () => go(1));
  $("mode").addEventListener("click", toggleMode);
  $("bare").addEventListener("click", toggleBare);
  $("fit").addEventListener("click", fit);
  $("actual").addEventListener("click", actualSize);
  $("undo").addEventListener("click", () => undo(false));
  $("redo").addEventListener("click", () => undo(true));
  $("delete").addEventListener("click", removeSelected);
  $("approve").addEventListener("click", approve);
  $("publish").addEventListener("click", publish);
  $("finish").addEventListener("click", finish);
  $("filter").addEventListener("change", () => { renderList(); updateButtons(); });
  updateButtons();
  poll();
}

document.addEventListener("DOMContentLoaded", start);
