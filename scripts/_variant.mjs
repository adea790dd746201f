import { build } from "esbuild";
const v = process.argv[2];
const stubLocales = { name: "zod-locales", setup(b) { b.onResolve({ filter: /locales\/index\.js$/ }, (a) => a.importer.includes("/zod/") ? { path: "zod-locales-en", namespace: "stub" } : undefined); b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: `export { default as en } from ${JSON.stringify(process.cwd() + "/node_modules/zod/v4/locales/en.js")};`, resolveDir: process.cwd() })); } };
await build({ entryPoints: { rempart: "dist/src/cli/main.js" }, outdir: "/tmp/su/var-" + v, bundle: true, splitting: true, format: "esm", platform: "node", target: "node20",
  minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: v.includes("ident"), keepNames: v.includes("keep"),
  plugins: v.includes("loc") ? [stubLocales] : [],
  external: ["better-sqlite3", "argon2", "sharp", "pg-native"], banner: { js: 'import { createRequire as __rempartRequire } from "node:module"; const require = __rempartRequire(import.meta.url);' }, logLevel: "warning" });
