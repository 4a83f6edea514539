// Hearth dashboard: live events (SSE), home state, latency per stage, audit log,
// privacy mode. Plain JS, nothing fetched from anywhere but this server.
"use strict";

const STAGES = [
  ["stt", "#1f77b4"], ["understand", "#2ca02c"], ["act", "#9467bd"],
  ["tts", "#8c564b"], ["end_to_action", "#d62728"],
];
const MAX_EVENTS = 200;
const MAX_TURNS = 60;
const turns = [];
let stream = null;

async function api(path, options = {}) {
  const res = await fetch(path, {credentials: "same-origin", ...options});
  if (res.status === 401) { window.location.href = "/login"; throw new Error("unauthorized"); }
  return res;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// --- live events --------------------------------------------------------------------

function summarize(ev) {
  switch (ev.type) {
    case "wake": return `${ev.wake_word} (${ev.score})`;
    case "speech_end": return ev.reason;
    case "transcript": return JSON.stringify(ev.text) + (ev.stt_ms ? ` · stt ${ev.stt_ms} ms` : "");
    case "intent": return `${ev.intent || "—"} via ${ev.handled_by}`;
    case "action": return `${ev.service} ${ev.entity_id}${ev.dry_run ? " (dry run)" : ""}`;
    case "reply": return JSON.stringify(ev.text);
    case "reply_sentence": return JSON.stringify(ev.text) + " (streamed)";
    case "tts_start": return `tts ${ev.tts_ms} ms`;
    case "error": return `${ev.stage}/${ev.code}: ${ev.message}`;
    case "stage_end": return `${ev.stage} ${ev.duration_ms} ms` + (ev.ok ? "" : ` · ${ev.error}`);
    case "turn": return Object.entries(ev.stages_ms || {}).map(([k, v]) => `${k} ${v}`).join(" · ");
    case "satellite": return ev.connected ? `connected from ${ev.peer}` : "disconnected";
    case "privacy_mode": return `${ev.previous} → ${ev.mode}`;
    case "announcement": return JSON.stringify(ev.text) + (ev.area ? ` in ${ev.area}` : "");
    default: return "";
  }
}

function showEvent(ev) {
  if (ev.type === "stage_start") return;  // its stage_end says how long it took
  const list = document.getElementById("events");
  const time = new Date(ev.ts || Date.now()).toLocaleTimeString();
  const li = el("li", {"data-type": ev.type, "data-source": ev.source || ""},
    el("span", {class: "muted"}, time + " "), el("span", {class: "src"}, (ev.source || "") + " "),
    el("span", {class: "type"}, ev.type), " ", summarize(ev));
  list.prepend(li);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

function connect() {
  if (stream) stream.close();
  stream = new EventSource("/api/events?replay=50", {withCredentials: true});
  const status = document.getElementById("stream-status");
  stream.onopen = () => { status.textContent = "live"; status.className = "pill on"; };
  stream.onerror = () => { status.textContent = "reconnecting"; status.className = "pill off"; };
  stream.onmessage = (msg) => {
    const ev = JSON.parse(msg.data);
    showEvent(ev);
    if (ev.type === "turn") { addTurn(ev); }
    if (ev.type === "action") { refreshHome(); }
    if (ev.type === "escalated") { refreshAudit(); }
    if (ev.type === "satellite") { refreshHealth(); }
    if (ev.type === "privacy_mode") { refreshPrivacy(); }
  };
}

// --- home state ---------------------------------------------------------------------

const lastStates = {};
async function refreshHome() {
  const data = await (await api("/api/home")).json();
  const areas = Object.fromEntries(data.areas.map((a) => [a.id, a.name]));
  const body = document.querySelector("#home-table tbody");
  body.replaceChildren(...data.entities.map((e) => {
    const attrs = Object.keys(e.attributes).length ? JSON.stringify(e.attributes) : "";
    const key = e.state + attrs;
    const row = el("tr", {"data-entity": e.entity_id, "data-state": e.state},
      el("td", {title: e.entity_id}, e.name), el("td", {}, areas[e.area] || "—"),
      el("td", {class: "state"}, e.state), el("td", {class: "attrs"}, attrs));
    if (lastStates[e.entity_id] !== undefined && lastStates[e.entity_id] !== key) row.className = "changed";
    lastStates[e.entity_id] = key;
    return row;
  }));
}

// --- latency chart ------------------------------------------------------------------

const seenTurns = new Set();
function addTurn(turn) {
  if (seenTurns.has(turn.seq)) return;  // the SSE replay and /api/turns overlap
  seenTurns.add(turn.seq);
  turns.push(turn);
  while (turns.length > MAX_TURNS) turns.shift();
  drawChart();
}

function drawChart() {
  const canvas = document.getElementById("latency-chart");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 44, bottom = 22, top = 10, right = 10;
  ctx.clearRect(0, 0, W, H);
  const values = turns.flatMap((t) => STAGES.map(([s]) => (t.stages_ms || {})[s]).filter((v) => v !== undefined));
  const maxV = Math.max(100, ...values);
  const y = (v) => top + (H - top - bottom) * (1 - v / maxV);
  const x = (i) => left + (turns.length < 2 ? (W - left - right) / 2 : i * (W - left - right) / (turns.length - 1));
  ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#777"; ctx.font = "11px sans-serif"; ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = maxV * k / 4;
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(W - right, y(v)); ctx.stroke();
    ctx.fillText(String(Math.round(v)), 4, y(v) + 4);
  }
  ctx.fillText(turns.length ? `last ${turns.length} turns →` : "no turns yet", left, H - 6);
  for (const [stage, color] of STAGES) {
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    turns.forEach((t, i) => {
      const v = (t.stages_ms || {})[stage];
      if (v === undefined) return;
      if (!started) { ctx.moveTo(x(i), y(v)); started = true; } else { ctx.lineTo(x(i), y(v)); }
    });
    ctx.stroke();
    turns.forEach((t, i) => {
      const v = (t.stages_ms || {})[stage];
      if (v !== undefined) { ctx.beginPath(); ctx.arc(x(i), y(v), 2.5, 0, 2 * Math.PI); ctx.fill(); }
    });
  }
  canvas.dataset.points = String(turns.length);
  const last = turns[turns.length - 1];
  const body = document.querySelector("#latency-last tbody");
  body.replaceChildren(...(last ? Object.entries(last.stages_ms || {}) : []).map(([k, v]) =>
    el("tr", {"data-stage": k}, el("td", {}, k), el("td", {}, `${v} ms`))));
}

function drawLegend() {
  document.getElementById("latency-legend").replaceChildren(...STAGES.map(([s, c]) => {
    const swatch = el("i"); swatch.style.background = c;
    return el("span", {}, swatch, s.replaceAll("_", " "));
  }));
}

// --- audit, health, privacy ---------------------------------------------------------

async function refreshAudit() {
  const data = await (await api("/api/audit?limit=50")).json();
  const body = document.querySelector("#audit-table tbody");
  body.replaceChildren(...data.entries.slice().reverse().map((e) => el("tr", {"data-id": e.id},
    el("td", {}, e.t_sent), el("td", {}, e.rule), el("td", {}, e.endpoint),
    el("td", {}, e.text), el("td", {}, e.payload_bytes), el("td", {}, e.status))));
  const empty = document.getElementById("audit-empty");
  empty.hidden = data.entries.length > 0;
  if (!data.available) { empty.textContent = "The audit log is not available on this server."; }
}

async function refreshHealth() {
  const h = await (await api("/api/health")).json();
  document.getElementById("server-info").textContent =
    `v${h.version} · up ${Math.round(h.uptime_s)} s · ${h.turns_completed} turns` +
    (h.microphone ? " · microphone on" : "");
  document.getElementById("satellites").replaceChildren(...(h.satellites.length ? h.satellites.map((s) =>
    el("li", {"data-satellite": s.name, "data-connected": String(s.connected)},
      `${s.name} (${s.area || "?"}) — ${s.connected ? `connected, wake word on ${s.wake_on || "…"}` : "offline"}`))
    : [el("li", {class: "muted"}, "No satellites configured.")]));
}

async function refreshPrivacy() {
  const p = await (await api("/api/privacy")).json();
  document.getElementById("privacy-current").textContent = p.mode;
  document.getElementById("privacy-current").dataset.mode = p.mode;
  document.getElementById("privacy-mode").value = p.mode;
}

function setupPrivacy() {
  const dialog = document.getElementById("privacy-dialog");
  document.getElementById("privacy-apply").addEventListener("click", () => {
    const mode = document.getElementById("privacy-mode").value;
    document.getElementById("privacy-question").textContent = `Switch the privacy mode to “${mode}”?`;
    dialog.dataset.mode = mode;
    dialog.showModal();
  });
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm") { refreshPrivacy(); return; }
    const res = await api("/api/privacy", {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({mode: dialog.dataset.mode, confirm: true})});
    if (!res.ok) { alert(`Could not switch: ${res.status}`); }
    refreshPrivacy();
  });
}

function setupAsk() {
  document.getElementById("ask-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = document.getElementById("ask-text").value;
    const area = document.getElementById("ask-area").value.trim() || null;
    const out = document.getElementById("ask-result");
    const res = await api("/api/ask", {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({text, area})});
    const body = await res.json();
    out.textContent = res.ok ? `${body.reply} (${body.handled_by})` : `Error: ${body.message || res.status}`;
    out.dataset.handledBy = res.ok ? body.handled_by : "error";
  });
}

async function start() {
  drawLegend();
  setupPrivacy();
  setupAsk();
  connect();
  const recent = await (await api("/api/turns?limit=" + MAX_TURNS)).json();
  recent.forEach(addTurn);
  drawChart();
  await Promise.all([refreshHome(), refreshAudit(), refreshHealth(), refreshPrivacy()]);
  setInterval(refreshHealth, 5000);
  setInterval(refreshAudit, 15000);
  document.body.dataset.ready = "true";
}

start();
