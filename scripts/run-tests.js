// Runs every compiled test file with Node's own test runner.
// Usage: node scripts/run-tests.js [filter...]   (filters match against the file path)
// REMPART_TEST_DATABASE_URL=postgres://... runs the integration tests against PostgreSQL.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("dist/test").sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const db = process.env.REMPART_TEST_DATABASE_URL ? "PostgreSQL" : "SQLite";
console.log(`Running ${files.length} test files against ${db}`);
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", "--test-reporter=spec", ...files], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
