// An independent client: python matrix-nio (Debian) logs in and calls whoami over r0 paths.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startTestServer, type TestServer } from "../helpers/server.js";

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

function runPython(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    // Debian's interpreter: the one first on PATH may not see Debian's python3-matrix-nio.
    const p = spawn("/usr/bin/python3", args);
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

test("matrix-nio logs in and whoami answers, over r0 paths with ?access_token=", async () => {
  await s.app.accounts.createUser("nio", "nio-password-123");
  const r = await runPython(["test/peers/nio_login.py", s.url, "@nio:rempart.test", "nio-password-123"]);
  assert.equal(r.code, 0, `nio failed: ${r.out} ${r.err}`);
  const res = JSON.parse(r.out.trim().split("\n").pop()!) as { user_id: string; device_id: string; whoami: string };
  assert.equal(res.user_id, "@nio:rempart.test");
  assert.equal(res.whoami, "@nio:rempart.test");
  const devices = await s.app.devices.list("@nio:rempart.test");
  assert.deepEqual(devices.map((d) => d.device_id), [res.device_id]);
  assert.equal(devices[0]!.display_name, "nio test");
});
