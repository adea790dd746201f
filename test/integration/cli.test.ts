// The `rempart` command as a newcomer uses it (README "Quick start"): the real bin/rempart.js (the
// bundled build) in child processes. generate-config, an invalid setting (one line, exit 2),
// register-user (password piped on standard input), then `start`: /versions answers and the user
// created on the command line can log in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";

const BIN = fileURLToPath(new URL("../../../bin/rempart.js", import.meta.url));

/** The environment for one CLI run: a fresh data_dir, and the test database when one is given. */
function env(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dataDir, REMPART_DATA_DIR: dataDir, REMPART_SERVER_NAME: "cli.test", ...extra };
  // Cheap argon2 so the test is quick; the defaults are measured in bench/.
  e.REMPART_PASSWORD_HASHING__MEMORY_KIB = "1024";
  e.REMPART_PASSWORD_HASHING__TIME_COST = "1";
  return e;
}

function run(args: string[], e: NodeJS.ProcessEnv, input?: string) {
  return spawnSync(process.execPath, [BIN, ...args], { env: e, input, encoding: "utf8", timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test("generate-config writes a commented file that start accepts", () => {
  const dir = mkdtempSync(join(tmpdir(), "rempart-cli-"));
  try {
    const out = join(dir, "rempart.yaml");
    const r = run(["generate-config", "--server-name", "example.org", "--output", out], env(dir));
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(out, "utf8");
    assert.match(text, /server_name: "?example\.org/);
    assert.match(text, /^#/m);
    // Refuses to overwrite without --force.
    assert.equal(run(["generate-config", "--output", out], env(dir)).status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an invalid setting prints one line naming the key and exits with status 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "rempart-cli-"));
  try {
    const r = run(["start"], env(dir, { REMPART_LISTEN: "not-a-listen-address" }));
    assert.equal(r.status, 2);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /listen/);
    const u = run(["no-such-command"], env(dir));
    assert.equal(u.status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("register-user, then start: /versions answers and the user logs in", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rempart-cli-"));
  const port = await freePort();
  const e = env(dir, { REMPART_LISTEN: `127.0.0.1:${port}`, REMPART_LOG_LEVEL: "warn" });
  try {
    const reg = run(["register-user", "alice"], e, "correct horse battery staple\n");
    assert.equal(reg.status, 0, reg.stderr);
    assert.match(reg.stdout, /created @alice:cli\.test/);
    assert.equal(run(["register-user", "alice"], e, "another long password here\n").status, 1, "a taken name is refused");
    // Admins are created the same way (they sign in through the web login with a second factor).
    const admin = run(["register-user", "root", "--admin", "--password", "a long admin passphrase here"], e);
    assert.equal(admin.status, 0, admin.stderr);
    assert.match(admin.stdout, /created @root:cli\.test \(server admin\)/);

    const server = spawn(process.execPath, [BIN, "start"], { env: e, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    server.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      let versions: Response | undefined;
      for (let i = 0; i < 200 && !versions; i++) {
        versions = await fetch(`${base}/_matrix/client/versions`).catch(() => undefined);
        if (!versions) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(versions, `the server never answered: ${stderr}`);
      assert.equal(versions.status, 200);
      assert.ok(Array.isArray(((await versions.json()) as { versions: unknown }).versions));
      const login = await fetch(`${base}/_matrix/client/v3/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password: "correct horse battery staple" }),
      });
      const body = (await login.json()) as { user_id?: string; access_token?: string };
      assert.equal(login.status, 200, JSON.stringify(body));
      assert.equal(body.user_id, "@alice:cli.test");
      assert.ok(body.access_token);
    } finally {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
