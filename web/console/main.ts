// The security console (docs/security-console.md): a single page that calls the security API
// (/_rempart/admin/v1/security/*) with the web session cookie, sending the session's CSRF token on
// POSTs. Bundled by scripts/bundle.js with uPlot (no CDN). All text from the server is put in the
// page with textContent, never as HTML: user ids and alert details come from users.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./console.css";
import { translator, type Lang } from "./i18n.js";

const API = "/_rempart/admin/v1/security";
const POLL_MS = 3000;
const MINUTES = 60;
const lang: Lang = document.documentElement.lang === "fr" ? "fr" : "en";
const t = translator(lang);
const meta = (n: string) => document.querySelector<HTMLMetaElement>(`meta[name="${n}"]`)?.content ?? "";
const csrf = meta("rempart-csrf");
const admin = meta("rempart-admin");
const fmtTime = (ts: number) => new Date(ts).toLocaleTimeString(lang === "fr" ? "fr-FR" : "en-GB");
const fmtDate = (ts: number) => new Date(ts).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB");

type Attrs = Record<string, string | number | boolean | EventListener | undefined>;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...kids: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of kids) if (c !== null && c !== undefined) el.append(c);
  return el;
}
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: method === "POST" ? { "content-type": "application/json", "x-csrf-token": csrf } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, json.error ?? `HTTP ${res.status}`);
  return json as T;
}

function table(caption: string, heads: string[], rows: (Node | string)[][], empty: string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, ...heads.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

const userLink = (userId: string) => h("button", { type: "button", class: "link", "data-user": userId, onclick: () => void openUser(userId) }, userId);

// ---- layout ----
function layout(): void {
  const other: Lang = lang === "fr" ? "en" : "fr";
  const app = $("app");
  app.replaceChildren(
    h(
      "header",
      {},
      h("h1", {}, t("title")),
      h("p", { class: "who" }, t("signed_in", { admin })),
      h("a", { href: `/_rempart/console?lang=${other}`, lang: other, hreflang: other }, t("other_lang")),
      h("div", { class: "audit", role: "status", "aria-live": "polite" }, h("strong", {}, `${t("audit")} : `.replace(" :", lang === "fr" ? " :" : ":")), h("span", { id: "audit-status" }, "…"), " ", h("button", { type: "button", id: "audit-check", onclick: () => void audit() }, t("audit_check"))),
    ),
    h(
      "main",
      { id: "main", class: "grid" },
      h("section", { id: "alerts", "aria-labelledby": "alerts-h" }, h("h2", { id: "alerts-h" }, t("alerts")), h("p", { id: "alerts-updated", class: "muted" }), h("div", { id: "alerts-list" })),
      h("section", { id: "readers", "aria-labelledby": "readers-h" }, h("h2", { id: "readers-h" }, t("readers")), h("div", { id: "readers-list" })),
      h(
        "section",
        { id: "user", "aria-labelledby": "user-h" },
        h("h2", { id: "user-h" }, t("user_panel")),
        h(
          "form",
          { id: "user-form", onsubmit: (e: Event) => (e.preventDefault(), void openUser($<HTMLInputElement>("user-id").value.trim())) },
          h("label", { for: "user-id" }, t("user_id")),
          h("input", { id: "user-id", name: "user-id", placeholder: "@user:server", autocomplete: "off", required: true }),
          h("button", { type: "submit" }, t("show")),
        ),
        h("p", { id: "user-msg", role: "status", "aria-live": "polite" }),
        h("div", { id: "user-detail", hidden: true }),
      ),
      h(
        "section",
        { id: "room", "aria-labelledby": "room-h" },
        h("h2", { id: "room-h" }, t("room_panel")),
        h(
          "form",
          { id: "room-form", onsubmit: (e: Event) => (e.preventDefault(), void openRoom($<HTMLInputElement>("room-id").value.trim())) },
          h("label", { for: "room-id" }, t("room_id")),
          h("input", { id: "room-id", name: "room-id", placeholder: "!room:server", autocomplete: "off", required: true }),
          h("button", { type: "submit" }, t("show")),
        ),
        h("div", { id: "room-list" }),
      ),
    ),
    h(
      "dialog",
      { id: "confirm", "aria-labelledby": "confirm-text" },
      h(
        "form",
        { method: "dialog", id: "confirm-form" },
        h("p", { id: "confirm-text" }),
        h("label", { for: "reason" }, t("reason")),
        h("textarea", { id: "reason", name: "reason", rows: 3, required: true, maxlength: 1000 }),
        h("div", { class: "buttons" }, h("button", { type: "button", id: "confirm-cancel", value: "cancel" }, t("cancel")), h("button", { type: "submit", id: "confirm-ok", class: "danger", value: "ok" }, t("confirm"))),
      ),
    ),
  );
  app.removeAttribute("aria-busy");
}

// ---- audit chain ----
async function audit(): Promise<void> {
  const el = $("audit-status");
  try {
    const r = await api<{ ok: boolean; records: number; checkpoints: number; bad?: { seq: number; reason: string } }>("GET", `${API}/audit/verify`);
    el.textContent = r.ok ? t("audit_ok", { records: r.records, checkpoints: r.checkpoints }) : t("audit_bad", { seq: r.bad!.seq, reason: r.bad!.reason });
    el.className = r.ok ? "ok" : "bad";
  } catch (e) {
    el.textContent = t("error", { error: (e as Error).message });
    el.className = "bad";
  }
}

// ---- alerts and readers, polled ----
interface Alert {
  id: number;
  ts: number;
  user_id: string;
  kind: string;
  detail: Record<string, unknown>;
}
let lastAlertIds = "";
async function poll(): Promise<void> {
  try {
    const { alerts } = await api<{ alerts: Alert[] }>("GET", `${API}/alerts?limit=50`);
    const ids = alerts.map((a) => a.id).join(",");
    if (ids !== lastAlertIds) {
      lastAlertIds = ids;
      const rows = alerts.map((a) => [fmtDate(a.ts), userLink(a.user_id), h("span", { class: `kind ${a.kind.includes("lock") ? "bad" : "warn"}` }, a.kind), describe(a.detail)]);
      $("alerts-list").replaceChildren(table(t("alerts"), [t("time"), t("user"), t("kind"), t("detail")], rows, t("no_alerts")));
    }
    const r = await api<{ readers: { user_id: string; reads: number; rooms: number; events: number; refused: number }[] }>("GET", `${API}/readers?limit=10`);
    $("readers-list").replaceChildren(
      table(t("readers"), [t("user"), t("reads"), t("rooms"), t("events"), t("refused")], r.readers.map((x) => [userLink(x.user_id), String(x.reads), String(x.rooms), String(x.events), String(x.refused)]), t("no_readers")),
    );
    $("alerts-updated").textContent = t("alerts_updated", { time: fmtTime(Date.now()) });
  } catch (e) {
    $("alerts-updated").textContent = t("error", { error: (e as Error).message });
  }
}

function describe(d: Record<string, unknown>): string {
  const parts: string[] = [];
  if (d.metric !== undefined) parts.push(`${String(d.metric)} ${String(d.value)} > ${String(d.limit)}`);
  if (d.scope !== undefined) parts.push(`(${String(d.scope)})`);
  if (d.ip !== undefined) parts.push(`IP ${String(d.ip)}`);
  return parts.length ? parts.join(" ") : JSON.stringify(d).slice(0, 200);
}

// ---- one user ----
interface Timeline {
  user_id: string;
  minutes: { ts: number; reads: number; refused: number }[];
  containment: { ts: number; action: string; metric: string; value: number; limit: number }[];
  lock: { locked: boolean; reason?: string | null; locked_by?: string | null; locked_ts?: number };
}
interface MetersView {
  metrics: { metric: string; value: number; threshold: number; ratio: number }[];
}
let chart: uPlot | undefined;
let current: string | undefined;

async function openUser(userId: string): Promise<void> {
  if (!userId) return;
  current = userId;
  $<HTMLInputElement>("user-id").value = userId;
  const msg = $("user-msg");
  msg.textContent = "";
  try {
    const enc = encodeURIComponent(userId);
    const [tl, m] = await Promise.all([api<Timeline>("GET", `${API}/timeline/${enc}?minutes=${MINUTES}`), api<MetersView>("GET", `${API}/meters/${enc}`)]);
    renderUser(tl, m);
  } catch (e) {
    $("user-detail").hidden = true;
    msg.textContent = t("error", { error: (e as Error).message });
  }
}

function renderUser(tl: Timeline, m: MetersView): void {
  const d = $("user-detail");
  d.hidden = false;
  const status = tl.lock.locked
    ? h("p", { id: "lock-status", class: "bad" }, `${t("locked")}${tl.lock.reason ? ` — ${tl.lock.reason}` : ""}${tl.lock.locked_by ? ` (${tl.lock.locked_by})` : ""}`)
    : h("p", { id: "lock-status", class: "ok" }, t("not_locked"));
  const chartBox = h("div", { id: "timeline", role: "img", "aria-label": t("timeline_label", { user: tl.user_id }) });
  const steps = tl.containment.map((c) => `${fmtTime(c.ts)} — ${c.action}: ${c.metric} ${c.value} > ${c.limit}`);
  const enc = encodeURIComponent(tl.user_id);
  d.replaceChildren(
    h("h3", { id: "user-title" }, tl.user_id),
    status,
    h(
      "div",
      { class: "buttons", role: "group", "aria-label": tl.user_id },
      tl.lock.locked
        ? h("button", { type: "button", id: "unlock", onclick: () => void act("unlock", tl.user_id) }, t("unlock"))
        : h("button", { type: "button", id: "lock", class: "danger", onclick: () => void act("lock", tl.user_id) }, t("lock")),
      h("button", { type: "button", id: "end-sessions", class: "danger", onclick: () => void act("end_sessions", tl.user_id) }, t("end_sessions")),
    ),
    h("h4", {}, t("timeline", { minutes: MINUTES })),
    chartBox,
    h("h4", {}, t("containment")),
    steps.length ? h("ul", { id: "containment-list" }, ...steps.map((s) => h("li", {}, s))) : h("p", { class: "empty" }, t("none")),
    h("h4", {}, t("meters")),
    table(t("meters"), [t("metric"), t("value"), t("threshold")], m.metrics.map((x) => [x.metric, String(x.value), h("span", { class: x.ratio > 1 ? "bad" : "" }, String(x.threshold))]), t("none")),
    h("h4", {}, t("forensics")),
    h("div", { class: "buttons" }, ...(["md", "json", "csv"] as const).map((f) => h("button", { type: "button", id: `forensics-${f}`, onclick: () => void forensics(tl.user_id, f) }, `${t("forensics")} (${f})`))),
  );
  void enc;
  drawChart(chartBox, tl);
}

function drawChart(box: HTMLElement, tl: Timeline): void {
  chart?.destroy();
  const xs = tl.minutes.map((p) => p.ts / 1000);
  const marks = tl.containment.map((c) => ({ x: c.ts / 1000, lock: c.action === "lock" }));
  if (tl.lock.locked && tl.lock.locked_ts) marks.push({ x: tl.lock.locked_ts / 1000, lock: true });
  const markers: uPlot.Plugin = {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        for (const mk of marks) {
          const x = u.valToPos(mk.x, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.strokeStyle = mk.lock ? "#b00020" : "#e07000";
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash(mk.lock ? [] : [6, 4]);
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
  const width = Math.max(320, Math.min(1100, box.parentElement!.clientWidth - 8));
  chart = new uPlot(
    {
      width,
      height: 220,
      plugins: [markers],
      // The last minute's bucket runs until now: the x axis goes one minute past it, so that a
      // containment step taken during the current minute is drawn.
      scales: { x: { time: true, range: () => [xs[0]!, xs[xs.length - 1]! + 60] }, y: { range: (_u, _min, max) => [0, Math.max(5, max)] } },
      series: [
        { label: t("time") },
        { label: t("reads"), stroke: "#1f5fbf", fill: "rgba(31,95,191,0.15)", width: 2 },
        { label: t("refused"), stroke: "#b00020", width: 2 },
      ],
    },
    [xs, tl.minutes.map((p) => p.reads), tl.minutes.map((p) => p.refused)],
    box,
  );
}

// ---- actions ----
function confirmDialog(text: string): Promise<string | undefined> {
  const dlg = $<HTMLDialogElement>("confirm");
  const reason = $<HTMLTextAreaElement>("reason");
  $("confirm-text").textContent = text;
  reason.value = "";
  return new Promise((resolve) => {
    const form = $<HTMLFormElement>("confirm-form");
    const done = (v: string | undefined) => {
      form.onsubmit = null;
      $("confirm-cancel").onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      if (reason.value.trim()) done(reason.value.trim());
    };
    $("confirm-cancel").onclick = () => done(undefined);
    dlg.onclose = () => done(undefined);
    dlg.showModal();
    reason.focus();
  });
}

async function act(action: "lock" | "unlock" | "end_sessions", userId: string): Promise<void> {
  const q = action === "lock" ? "confirm_lock" : action === "unlock" ? "confirm_unlock" : "confirm_end";
  const reason = await confirmDialog(t(q, { user: userId }));
  if (reason === undefined) return;
  const msg = $("user-msg");
  try {
    await api("POST", `${API}/users/${encodeURIComponent(userId)}/${action}`, { reason });
    msg.textContent = t(action === "lock" ? "done_lock" : action === "unlock" ? "done_unlock" : "done_end", { user: userId });
    if (current === userId) await openUser(userId);
    msg.textContent = t(action === "lock" ? "done_lock" : action === "unlock" ? "done_unlock" : "done_end", { user: userId });
  } catch (e) {
    msg.textContent = t("error", { error: (e as Error).message });
  }
}

/** The forensic report is another module's API (/_rempart/admin/v1/forensics/users/{userId}); the
 * console only downloads it, and says so when it is not there. */
async function forensics(userId: string, format: "md" | "json" | "csv"): Promise<void> {
  const msg = $("user-msg");
  try {
    const res = await fetch(`/_rempart/admin/v1/forensics/users/${encodeURIComponent(userId)}?format=${format}`, { credentials: "same-origin" });
    if (!res.ok) {
      msg.textContent = t("forensics_unavailable", { status: res.status });
      return;
    }
    const blob = await res.blob();
    const a = h("a", { href: URL.createObjectURL(blob), download: `forensics-${userId.replace(/[^\w.-]+/g, "_")}.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    msg.textContent = t("error", { error: (e as Error).message });
  }
}

// ---- one room ----
async function openRoom(roomId: string): Promise<void> {
  if (!roomId) return;
  const box = $("room-list");
  try {
    const r = await api<{ readers: { user_id: string; reads: number; events: number; refused: number; last_ts: number }[] }>("GET", `${API}/rooms/${encodeURIComponent(roomId)}/readers`);
    box.replaceChildren(table(t("room_panel"), [t("user"), t("reads"), t("events"), t("refused"), t("time")], r.readers.map((x) => [userLink(x.user_id), String(x.reads), String(x.events), String(x.refused), fmtDate(x.last_ts)]), t("no_readers")));
  } catch (e) {
    box.replaceChildren(h("p", { role: "alert" }, t("error", { error: (e as Error).message })));
  }
}

layout();
void audit();
void poll();
setInterval(() => void poll(), POLL_MS);
const start = new URLSearchParams(location.search).get("user");
if (start) void openUser(start);
