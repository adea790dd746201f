// The security console page (/_rempart/console, docs/security-console.md): one HTML page whose
// script and stylesheet are bundled at build time from web/console/ (scripts/bundle.js →
// dist/web/console.js and console.css) and served from here: no CDN, works offline. Admins reach it
// through the web login (password + second factor); the page then calls the security API with the
// same session cookie, and the CSRF token is handed to the script in a meta tag.
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { alertBox, esc, pickLang, sendPage, translator } from "./page.js";
import { currentSession } from "./web-session.js";

const ASSETS: Record<string, string> = { "console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8" };

/** dist/web/ seen from dist/src/http/web/ (tests, tsc output) or from dist/bundle/ (bin/rempart.js). */
const assetUrls = (name: string) => [new URL(`../../../web/${name}`, import.meta.url), new URL(`../web/${name}`, import.meta.url)];

async function loadAsset(name: string): Promise<Buffer | undefined> {
  for (const u of assetUrls(name)) {
    try {
      return await readFile(u);
    } catch {
      // next candidate
    }
  }
  return undefined;
}

export function registerConsolePage(http: FastifyInstance, app: App): void {
  const cache = new Map<string, Buffer>();

  http.get("/_rempart/console", async (req, reply) => {
    const s = await currentSession(app, req);
    const lang = pickLang(req, s?.data.lang);
    if (!s || s.state !== "full" || !s.userId) {
      return reply.redirect(`/_rempart/login?then=${encodeURIComponent("/_rempart/console")}&lang=${lang}`, 303);
    }
    const user = await app.accounts.getUser(s.userId);
    if (!user?.admin) {
      const t = translator(lang);
      app.adminActions.record({ admin: s.userId, action: "refused.not_admin", details: { method: "GET", route: "/_rempart/console" } });
      return sendPage(reply, { t, title: lang === "fr" ? "Console de sécurité" : "Security console", body: alertBox(lang === "fr" ? "Réservé aux administrateurs du serveur." : "Server admins only.") }, 403);
    }
    const title = lang === "fr" ? "Console de sécurité" : "Security console";
    const html = `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<meta name="rempart-csrf" content="${esc(s.csrf)}"><meta name="rempart-admin" content="${esc(s.userId)}">
<title>${esc(title)} · Rempart</title><link rel="stylesheet" href="/_rempart/console/console.css"></head>
<body><div id="app" aria-busy="true"><noscript>${lang === "fr" ? "La console nécessite JavaScript." : "The console needs JavaScript."}</noscript></div>
<script src="/_rempart/console/console.js"></script></body></html>`;
    return reply
      .headers({
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        "x-frame-options": "DENY",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
      })
      .send(html);
  });

  http.get<{ Params: { asset: string } }>("/_rempart/console/:asset", async (req, reply) => {
    const type = ASSETS[req.params.asset];
    let body = type ? cache.get(req.params.asset) : undefined;
    if (type && !body) {
      body = await loadAsset(req.params.asset);
      if (body) cache.set(req.params.asset, body);
    }
    if (!type || !body) return reply.code(404).send({ errcode: "M_NOT_FOUND", error: "Not found" });
    return reply.headers({ "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" }).send(body);
  });
}
