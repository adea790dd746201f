// Bundles the compiled server into dist/bundle/ for `bin/rempart.js`.
// Why: loading ~600 separate ES modules (fastify, kysely, zod, pino…) costs ~15 MB of resident
// memory and start-up time; one bundle loads in a fraction of that (bench/foundation.ts measures
// both). Tests keep importing dist/src/ directly. Native addons stay external; rarely used paths
// reached through dynamic import() become separate chunks, loaded only when first needed.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

// zod re-exports its ~40 translations of error messages (`z.locales`); we use none of them (our
// errors are Matrix errors; English is zod's built-in default). Without this, ~300 KB of them
// would be parsed at every start. A `z.locales.xx` lookup would find only `en`.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /[\\/]locales[\\/]index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: fileURLToPath(new URL("./zod-locales.js", import.meta.url)) } : undefined,
    );
  },
};

// Chunk names carry a content hash: clear the old ones rather than let them pile up.
rmSync("dist/bundle", { recursive: true, force: true });

// Packages fastify requires only on paths the server never takes: its schema compilers (our
// routes validate with zod; src/http/server.ts gives fastify stand-ins) and `inject` (tests use
// dist/src/). Left out of the bundle, ~400 KB less to parse and hold at every start; were one
// needed, Node would still find it in node_modules.
const NEVER_LOADED = ["@fastify/ajv-compiler", "@fastify/fast-json-stringify-compiler", "light-my-request"];

await build({
  // The signing thread (src/matrix/signer.ts) loads ./signer-worker.js next to the chunk that starts it.
  entryPoints: { rempart: "dist/src/cli/main.js", "signer-worker": "dist/src/matrix/signer-worker.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Whitespace and syntax only: identifiers keep their names, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  external: ["better-sqlite3", "argon2", "sharp", "pg-native", ...NEVER_LOADED],
  plugins: [zodEnglishOnly],
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
