#!/usr/bin/env node
// Entry point of the `rempart` command: the compiled, bundled CLI lives in dist/ (npm run build).
import { setFlagsFromString } from "node:v8";

// Two V8 settings for `rempart start` that cut the server's idle memory by ~20 MB (bench/foundation.ts,
// docs/architecture.md "Start-up and idle memory"). V8 reads both as it runs, so setting them
// here, before the bundle loads, is enough. The other commands (audit, forensics…) are batch
// work that wants the optimizing compiler throughout: they keep V8's defaults.
// - The young generation stays at its initial 1 MiB semi-spaces while starting, instead of
//   growing to 16 MiB ones, which the burst of allocation while loading and migrating triggered
//   and which V8 never gives back while the server idles.
// - No optimizing compiler (TurboFan) while starting: start-up code runs once, and optimizing the
//   loops that build routes and schemas left ~10 MB of compiler memory behind.
// Both return to V8's defaults as soon as the server listens: under traffic a larger young
// generation pays for itself (kept at 1 MiB, /versions cost ~8% more CPU per request).
const serving = process.argv[2] === "start";
if (serving) {
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--no-opt");
}

const { main } = await import("../dist/bundle/rempart.js");
main(process.argv.slice(2)).then(
  (code) => {
    if (serving) {
      setFlagsFromString("--opt");
      setFlagsFromString("--semi-space-growth-factor=2");
    }
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => { console.error(`rempart: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
