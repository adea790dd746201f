// Server-rendered HTML for Rempart's web pages: one accessible layout (lang attribute, skip link,
// a main landmark, labels on every field, errors announced with role="alert", focus on the first
// field or the error), French and English (?lang=, then Accept-Language), and the headers that go
// with it (CSP with a per-page nonce for the one inline script, no framing, no caching).
import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { en, type Strings } from "./i18n/en.js";
import { fr } from "./i18n/fr.js";

export type Lang = "en" | "fr";
const STRINGS: Record<Lang, Strings> = { en, fr };

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function pickLang(req: FastifyRequest, fallback?: string): Lang {
  const q = (req.query as Record<string, unknown> | undefined)?.lang;
  if (q === "fr" || q === "en") return q;
  if (fallback === "fr" || fallback === "en") return fallback;
  const accept = String(req.headers["accept-language"] ?? "");
  for (const part of accept.split(",")) {
    const tag = part.split(";")[0]!.trim().toLowerCase();
    if (tag.startsWith("fr")) return "fr";
    if (tag.startsWith("en")) return "en";
  }
  return "en";
}

export interface T {
  lang: Lang;
  (key: keyof Strings, vars?: Record<string, string | number>): string;
}

export function translator(lang: Lang): T {
  const f = ((key: keyof Strings, vars: Record<string, string | number> = {}) =>
    STRINGS[lang][key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ""))) as T;
  f.lang = lang;
  return f;
}

const STYLE = `
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}
label{display:block;font-weight:600;margin-top:1rem}input[type=text],input[type=password],input[type=email]{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;border:1px solid #666;border-radius:4px}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem;background:#000091;color:#fff;border:0;border-radius:4px;cursor:pointer}
button.secondary{background:#fff;color:#000091;border:1px solid #000091}
:focus-visible{outline:3px solid #0a76f6;outline-offset:2px}
.alert{padding:.75rem;border-left:4px solid #ce0500;background:#fee}.info{padding:.75rem;border-left:4px solid #0063cb;background:#eef}
code,.mono{font-family:ui-monospace,monospace;word-break:break-all}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem;border-bottom:1px solid #ddd}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
nav.lang{float:right}
`;

export interface PageOpts {
  title: string;
  body: string;
  t: T;
  /** Inline script (given the page's nonce). */
  script?: string;
  /** Path of this page, for the language links. */
  path?: string;
  /** Allow forms to lead elsewhere (the final redirect to the client). */
  formActionAnywhere?: boolean;
}

export function sendPage(reply: FastifyReply, o: PageOpts, status = 200): FastifyReply {
  const nonce = randomBytes(16).toString("base64");
  const other: Lang = o.t.lang === "fr" ? "en" : "fr";
  const langLink = o.path
    ? `<nav class="lang" aria-label="Language"><a href="${esc(withLang(o.path, other))}" lang="${other}" hreflang="${other}">${esc(STRINGS[other].lang_name)}</a></nav>`
    : "";
  const html = `<!doctype html>
<html lang="${o.t.lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${esc(o.title)} · Rempart</title><style nonce="${nonce}">${STYLE}</style></head>
<body><a class="skip" href="#main">${esc(o.t("skip"))}</a>${langLink}
<main id="main" tabindex="-1"><h1>${esc(o.title)}</h1>
${o.body}
</main>${o.script ? `<script nonce="${nonce}">${o.script}</script>` : ""}</body></html>`;
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    ...(o.formActionAnywhere ? [] : ["form-action 'self'"]),
  ].join("; ");
  return reply
    .code(status)
    .headers({
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": csp,
      "x-frame-options": "DENY",
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    })
    .send(html);
}

export function withLang(path: string, lang: Lang): string {
  const u = new URL(path, "http://x");
  u.searchParams.set("lang", lang);
  return u.pathname + u.search;
}

export const alertBox = (msg: string | undefined) => (msg ? `<p class="alert" role="alert" id="error">${esc(msg)}</p>` : "");
export const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

/** Puts keyboard focus on the error, else on the first field: the page starts where the user acts. */
export const focusScript = `(()=>{const e=document.getElementById('error')||document.querySelector('main input:not([type=hidden])');if(e){if(e.id==='error')e.tabIndex=-1;e.focus();}})();`;
