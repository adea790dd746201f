// The report's chart: what each intruder obtained over its own time, with the detection and
// containment moments marked. Drawn as SVG (plain text, easy to check) and rasterised to PNG by
// sharp (librsvg), which the media repository already depends on.
import sharp from "sharp";
import type { IntruderResult } from "./intruder.js";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#ff7f0e"];
const W = 960;
const H = 540;
const M = { left: 80, right: 220, top: 50, bottom: 60 };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

function niceMax(x: number): number {
  if (x <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const k of [1, 2, 5, 10]) if (k * p >= x) return k * p;
  return 10 * p;
}

export function chartSvg(title: string, runs: IntruderResult[], reachable: number): string {
  // Time on a log-like scale would hide the first seconds; each run is drawn on its own time in
  // seconds, the slow one in hours (its label says so).
  const px = W - M.left - M.right;
  const py = H - M.top - M.bottom;
  // A log scale: a contained run (hundreds of messages) and the gate-off run (everything) differ
  // by orders of magnitude, and both must be readable.
  const maxY = niceMax(Math.max(10, reachable, ...runs.map((r) => r.messages)));
  const logMax = Math.log10(maxY);
  const scaleY = (v: number) => (v <= 1 ? 0 : Math.log10(v) / logMax);
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="28" font-size="18" text-anchor="middle" font-family="sans-serif">${esc(title)}</text>`);
  // Axes and grid.
  for (let k = 0; k <= Math.round(logMax); k++) {
    const v = Math.pow(10, k);
    const y = M.top + py - py * scaleY(v);
    parts.push(`<line x1="${M.left}" x2="${M.left + px}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 8}" y="${y + 4}" font-size="12" text-anchor="end" font-family="sans-serif">${Math.round(v).toLocaleString("en")}</text>`);
  }
  parts.push(`<text x="20" y="${M.top + py / 2}" font-size="13" font-family="sans-serif" transform="rotate(-90 20 ${M.top + py / 2})" text-anchor="middle">messages obtained, log scale (of ${reachable.toLocaleString("en")} reachable)</text>`);
  parts.push(`<text x="${M.left + px / 2}" y="${H - 15}" font-size="13" text-anchor="middle" font-family="sans-serif">attacker time, as a share of each run (end = ${runs.map((r) => fmtDuration(r.attackerMs)).join(" / ")})</text>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + py}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left + px}" y1="${M.top + py}" y2="${M.top + py}" stroke="#333"/>`);
  runs.forEach((r, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const span = Math.max(1, r.attackerMs);
    const x = (t: number) => M.left + (px * Math.min(t, span)) / span;
    const y = (v: number) => M.top + py - py * scaleY(v);
    const pts = [{ t: 0, messages: 0 }, ...r.samples].map((s) => `${x(s.t).toFixed(1)},${y(s.messages).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/>`);
    for (const [at, label, dash] of [
      [r.detectedAtMs, "detected", "4 3"],
      [r.containedAtMs, "contained", ""],
    ] as const) {
      if (at === undefined) continue;
      parts.push(`<line x1="${x(at)}" x2="${x(at)}" y1="${M.top}" y2="${M.top + py}" stroke="${colour}" stroke-dasharray="${dash}" opacity="0.7"/>`);
      parts.push(`<text x="${x(at) + 3}" y="${M.top + 12 + i * 14}" font-size="11" fill="${colour}" font-family="sans-serif">${label}</text>`);
    }
    const ly = M.top + 10 + i * 40;
    parts.push(`<rect x="${W - M.right + 15}" y="${ly}" width="14" height="4" fill="${colour}"/>`);
    parts.push(`<text x="${W - M.right + 35}" y="${ly + 6}" font-size="13" font-family="sans-serif">${esc(r.variant)}${r.gate === false ? " (gate off)" : ""}</text>`);
    parts.push(`<text x="${W - M.right + 35}" y="${ly + 22}" font-size="11" fill="#555" font-family="sans-serif">${r.messages.toLocaleString("en")} msgs, ${r.media} files</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join("")}</svg>`;
}

export function fmtDuration(ms: number): string {
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 3 * 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

export async function writeChart(svg: string, pngPath: string): Promise<void> {
  await sharp(Buffer.from(svg)).png().toFile(pngPath);
}
