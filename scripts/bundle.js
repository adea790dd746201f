// Bundles the compiled server into dist/bundle/ for `bin/rempart.js`.
// Why: loading ~600 separate ES modules (fastify, kysely, zod, pino…) costs ~15 MB of resident
// memory and start-up time; one bundle loads in a fraction of that (bench/foundation.ts measures
// both). Tests keep importing dist/src/ directly. Native addons stay external; rarely used paths
// reached through dynamic import() become separate chunks, loaded only when first needed.
import { build } from "esbuild";

await build({
  entryPoints: { rempart: "dist/src/cli/main.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Whitespace and syntax only: identifiers keep their names, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  external: ["better-sqlite3", "argon2", "sharp", "pg-native"],
  // Some bundled CommonJS packages call require() for Node built-ins.
  banner: { js: 'import { createRequire as __rempartRequire } from "node:module"; const require = __rempartRequire(import.meta.url);' },
  logLevel: "warning",
});

// The security console's browser code (web/console/, docs/security-console.md), with uPlot and its
// stylesheet, into dist/web/console.js and console.css, served by /_rempart/console/: no CDN.
await build({
  entryPoints: { console: "web/console/main.ts" },
  outdir: "dist/web",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["chrome110", "firefox110", "safari16"],
  minify: true,
  logLevel: "warning",
});
