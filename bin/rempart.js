#!/usr/bin/env node
// Entry point of the `rempart` command: the compiled, bundled CLI lives in dist/ (npm run build).
import { setFlagsFromString } from "node:v8";

// Two V8 settings that cut the idle memory of `rempart start` by ~20 MB (bench/foundation.ts,
// docs/architecture.md "Start-up and idle memory"); both are read by V8 as it runs, so setting
// them here, before the bundle loads, is enough:
// - the young generation stays at its initial 1 MiB semi-spaces instead of growing to 16 MiB ones,
//   which the burst of allocation while loading the bundle and migrating triggers and which V8
//   never gives back while the server idles;
// - no optimizing compiler (TurboFan) while starting: start-up code runs once, and optimizing the
//   loops that build routes and schemas left ~10 MB of compiler memory behind. It is switched back
//   on once `main` has returned (for `start`: once the server listens), for the request paths.
setFlagsFromString("--semi-space-growth-factor=1");
setFlagsFromString("--no-opt");

const { main } = await import("../dist/bundle/rempart.js");
main(process.argv.slice(2)).then(
  (code) => {
    setFlagsFromString("--opt");
    if (typeof code === "number") process.exitCode = code;
  },
  (err) => { console.error(`rempart: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
