// Alerts to the owner (issue 9, step 7): a server notice in the user's notices room and an email
// (to a tiny SMTP receiver in this test), both with a "this was not me" link that locks the account,
// ends its sessions and alerts the admins.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let smtp: Server;
const mails: string[] = [];

/** Just enough SMTP for nodemailer: greeting, EHLO, MAIL, RCPT, DATA, QUIT. */
function smtpReceiver(): Promise<Server> {
  const server = createServer((sock) => {
    let buf = "";
    let inData = false;
    sock.write("220 test ESMTP\r\n");
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          mails.push(buf.slice(0, end));
          buf = buf.slice(end + 5);
          inData = false;
          sock.write("250 queued\r\n");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === "EHLO" || cmd === "HELO") sock.write("250-test\r\n250 8BITMIME\r\n");
        else if (cmd === "DATA") {
          inData = true;
          sock.write("354 go\r\n");
        } else if (cmd === "QUIT") {
          sock.end("221 bye\r\n");
          return;
        } else sock.write("250 ok\r\n");
      }
    });
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

before(async () => {
  smtp = await smtpReceiver();
  s = await startTestServer({ login_security: { new_login_alerts: true }, smtp: { host: "127.0.0.1", port: (smtp.address() as AddressInfo).port, secure: false, from: "Rempart <noreply@rempart.test>" } });
});
after(async () => {
  await s.close();
  smtp.close();
});

async function noticesOf(token: string): Promise<{ roomId: string; bodies: string[]; tags: unknown }> {
  const rooms = (await call(s.url, "GET", `${C}/joined_rooms`, { token })).body.joined_rooms as string[];
  assert.equal(rooms.length, 1, "one notices room");
  const roomId = rooms[0]!;
  const msgs = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`, { token });
  const bodies = (msgs.body.chunk as { type: string; sender: string; content: { msgtype?: string; body?: string } }[])
    .filter((e) => e.type === "m.room.message" && e.content.msgtype === "m.notice" && e.sender === "@server:rempart.test")
    .map((e) => e.content.body!);
  const userId = (await call(s.url, "GET", `${C}/account/whoami`, { token })).body.user_id as string;
  const tags = (await call(s.url, "GET", `${C}/user/${encodeURIComponent(userId)}/rooms/${encodeURIComponent(roomId)}/account_data/m.tag`, { token })).body;
  return { roomId, bodies, tags };
}

test("a login from a new device gets a server notice; the first login does not", async () => {
  const u = await s.user();
  assert.deepEqual((await call(s.url, "GET", `${C}/joined_rooms`, { token: u.accessToken })).body.joined_rooms, []);
  const c = client(s.url);
  await c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password, device_id: "NEWPHONE" } as never);
  const { bodies, tags } = await noticesOf(u.accessToken);
  assert.equal(bodies.length, 1);
  assert.match(bodies[0]!, /New sign-in.*NEWPHONE/);
  assert.match(bodies[0]!, /\/_rempart\/not-me\?token=/);
  assert.deepEqual(Object.keys((tags as { tags: object }).tags), ["m.server_notice"]);
  // The same device again: nothing new.
  await c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password, device_id: "NEWPHONE" } as never);
  assert.equal((await noticesOf(u.accessToken)).bodies.length, 1);
});

test("a password change alerts by notice and email; 'this was not me' locks the account, ends sessions, alerts admins", async () => {
  const admin = await s.user(undefined, { admin: true });
  const u = await s.user();
  await s.app.loginAlerts.setEmail(u.userId, "owner@example.org");
  const auth = { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password };
  const changed = await call(s.url, "POST", `${C}/account/password`, { token: u.accessToken, body: { new_password: "a completely new passphrase", logout_devices: false, auth } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  const { bodies } = await noticesOf(u.accessToken);
  assert.match(bodies.at(-1)!, /password of your account/);
  for (let i = 0; i < 50 && !mails.some((m) => m.includes("owner@example.org")); i++) await new Promise((r) => setTimeout(r, 50));
  const mail = mails.find((m) => m.includes("owner@example.org"));
  assert.ok(mail, "an email was sent");
  assert.match(mail, /Subject: \[Rempart\] Your password was changed/);
  // The body is quoted-printable: undo soft line breaks and =XX escapes.
  const plain = mail.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const link = /(http:\/\/\S+\/_rempart\/not-me\?token=[\w-]+)/.exec(plain)![1]!;

  // The link shows a confirmation page (GET never acts)…
  const page = await fetch(link.replace(/^http:\/\/[^/]+/, s.url));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Lock my account/);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).status, 200);
  // …and its form locks the account.
  const token = new URL(link).searchParams.get("token")!;
  const res = await fetch(`${s.url}/_rempart/not-me`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${token}` });
  assert.equal(res.status, 200);
  const locked = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: u.accessToken });
  assert.equal(locked.status, 401);
  assert.equal(locked.body.errcode, "M_USER_LOCKED");
  assert.equal(locked.body.soft_logout, true);
  assert.equal((await s.app.locks.status(u.userId)).locked, true);
  // The link works once; the admins were told.
  const again = await fetch(`${s.url}/_rempart/not-me`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${token}` });
  assert.equal(again.status, 404);
  const adminNotices = await noticesOf(admin.accessToken);
  assert.ok(adminNotices.bodies.some((b) => b.includes(u.userId) && b.includes("this was not me")));
  // After an admin unlocks, the sessions that existed at the lock stay ended.
  await s.app.locks.unlock(u.userId, admin.userId);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).body.errcode, "M_UNKNOWN_TOKEN");
});

test("an unknown or malformed 'not me' token is refused and changes nothing", async () => {
  assert.equal((await fetch(`${s.url}/_rempart/not-me?token=nope`)).status, 404);
  assert.equal((await fetch(`${s.url}/_rempart/not-me`)).status, 404);
  const r = await fetch(`${s.url}/_rempart/not-me`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "token=nope" });
  assert.equal(r.status, 404);
});

test("credential stuffing over HTTP: the source is blocked and the admins get a notice", async () => {
  const s2 = await startTestServer({ login_security: { new_login_alerts: true } });
  try {
    const admin = await s2.user(undefined, { admin: true });
    for (let i = 0; i < 10; i++) {
      const r = await call(s2.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: `target${i}` }, password: "123456" } });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, "Invalid username or password");
    }
    const blocked = await call(s2.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "target99" }, password: "123456" } });
    assert.equal(blocked.status, 403);
    assert.match(blocked.body.error as string, /network/);
    let bodies: string[] = [];
    for (let i = 0; i < 50 && !bodies.some((b) => b.includes("credential stuffing")); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const rooms = (await call(s2.url, "GET", `${C}/joined_rooms`, { token: admin.accessToken })).body.joined_rooms as string[];
      if (rooms.length === 0) continue;
      const msgs = await call(s2.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[0]!)}/messages?dir=b&limit=10`, { token: admin.accessToken });
      bodies = (msgs.body.chunk as { content: { body?: string } }[]).map((e) => e.content.body ?? "");
    }
    assert.ok(bodies.some((b) => b.includes("credential stuffing")), JSON.stringify(bodies));
  } finally {
    await s2.close();
  }
});
