#!/usr/bin/env node
// Entry point of the `rempart` command: the compiled, bundled CLI lives in dist/ (npm run build).
import { main } from "../dist/bundle/rempart.js";

main(process.argv.slice(2)).then(
  (code) => { if (typeof code === "number") process.exitCode = code; },
  (err) => { console.error(`rempart: ${err instanceof Error ? err.message : String(err)}`); process.exitCode = 1; },
);
