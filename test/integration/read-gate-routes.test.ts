// DESIGN.md invariant 2, proven on the real route list: every registered route is classified
// (gated, or "returns no room content"), every gated route answering 2xx leaves exactly one read
// record, and a gated route that forgets the gate is answered 500 instead of leaking.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { reads } from "../helpers/audit.js";
import { ROUTE_CLASSES, routeClass } from "../../src/http/read-routes.js";
import { buildServer } from "../../src/http/server.js";
import sharp from "sharp";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let room: string;
let eventId: string;
const alias = "#gate-walk:rempart.test";
let mediaId: string;
let backupVersion: string;

/** Every (method, path) the server has registered, from fastify's route tree (HEAD is implied by GET). */
function registeredRoutes(): string[] {
  const tree = s.http.printRoutes({ commonPrefix: false });
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/u.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const full = (depth > 0 ? stack[depth - 1]! : "") + m[2]!;
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (m[3] ?? "").split(/,\s*/)) if (method && method !== "HEAD" && method !== "OPTIONS") out.push(`${method} ${full}`);
  }
  return out.sort();
}

before(async () => {
  // No clamd here (the antivirus gate has its own tests); the legacy media endpoints serve
  // everything uploaded before a date in the future, so that they are walked too.
  s = await startTestServer({ antivirus: { enabled: false } as never, media: { legacy_unauthenticated_before: "2999-01-01" } as never });
  alice = await s.user("alice");
  bob = await s.user("bob");
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { name: "walk", preset: "public_chat", room_alias_name: "gate-walk" } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  room = r.body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(room)}`, { token: bob.accessToken })).status, 200);
  const sent = await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/t1`, { token: alice.accessToken, body: { msgtype: "m.text", body: "hello" } });
  eventId = sent.body.event_id as string;
  const reply = { msgtype: "m.text", body: "in thread", "m.relates_to": { rel_type: "m.thread", event_id: eventId } };
  assert.equal((await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/t2`, { token: alice.accessToken, body: reply })).status, 200);
  // A small image (downloads and thumbnails) and a key backup with one session (its downloads).
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366cc" } }).png().toBuffer();
  const up = await fetch(`${s.url}/_matrix/media/v3/upload?filename=walk.png`, { method: "POST", headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "image/png" }, body: new Uint8Array(png) });
  assert.equal(up.status, 200);
  mediaId = ((await up.json()) as { content_uri: string }).content_uri.split("/").pop()!;
  const kb = await call(s.url, "POST", `${C}/room_keys/version`, { token: bob.accessToken, body: { algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: { public_key: "pk", signatures: {} } } });
  backupVersion = kb.body.version as string;
  const key = { first_message_index: 0, forwarded_count: 0, is_verified: true, session_data: { ciphertext: "c", ephemeral: "e", mac: "m" } };
  assert.equal((await call(s.url, "PUT", `${C}/room_keys/keys/${encodeURIComponent(room)}/sess1?version=${backupVersion}`, { token: bob.accessToken, body: key })).status, 200);
});

after(async () => {
  await s.close();
});

test("every registered route is classified as gated or as returning no room content, and no classification is stale", () => {
  const routes = registeredRoutes();
  assert.ok(routes.length > 50, "route tree could not be read");
  const unclassified = routes.filter((r) => {
    const [method, url] = r.split(" ") as [string, string];
    return routeClass(method, url) === undefined;
  });
  assert.deepEqual(unclassified, [], "routes missing from src/http/read-routes.ts");
  const stale = [...ROUTE_CLASSES.keys()].filter((k) => !routes.includes(k));
  assert.deepEqual(stale, [], "classifications of routes that do not exist");
});

/** A concrete request for each gated route pattern, aimed at content the reader may see. */
function concrete(pattern: string): string {
  const [method, url] = pattern.split(" ") as [string, string];
  const stateRoute = url.endsWith("/state/:eventType/:stateKey");
  const relationsType = url.endsWith("/:relType/:eventType");
  let path = url
    .replace(":roomIdOrAlias", encodeURIComponent(room))
    .replace(":roomId", encodeURIComponent(room))
    .replace(":eventId", encodeURIComponent(eventId))
    .replace(":relType", "m.thread")
    .replace(":eventType", stateRoute ? "m.room.member" : relationsType ? "m.room.message" : "m.room.name")
    .replace(":stateKey", encodeURIComponent(bob.userId))
    .replace(":roomAlias", encodeURIComponent(alias))
    .replace(":userId", encodeURIComponent(alice.userId))
    .replace(":serverName", "rempart.test")
    .replace(":mediaId", mediaId)
    .replace(":fileName", "walk.png")
    .replace(":sessionId", "sess1");
  if (path.endsWith("/timestamp_to_event")) path += `?ts=${Date.now()}&dir=b`;
  if (path.includes("/thumbnail/")) path += "?width=32&height=32&method=crop";
  if (path.includes("/room_keys/keys")) path += `?version=${backupVersion}`;
  if (path.endsWith("/sync")) path += "?timeout=0";
  return `${method} ${path}`;
}

test("every gated route answers its content only with an audit record of it", async () => {
  const gated = [...ROUTE_CLASSES].filter(([, c]) => c === "gated").map(([k]) => k);
  assert.ok(gated.length >= 16);
  for (const pattern of gated) {
    const [method, path] = concrete(pattern).split(" ") as [string, string];
    const before = (await reads(s)).length;
    const body =
      method !== "POST"
        ? undefined
        : path.endsWith("/user_directory/search")
          ? { search_term: "ali" }
          : path.endsWith("/search")
            ? { search_categories: { room_events: { search_term: "hello" } } }
            : {};
    const res = await call(s.url, method, path, { token: bob.accessToken, body });
    assert.equal(res.status, 200, `${pattern}: ${res.status} ${JSON.stringify(res.body)}`);
    const after = await reads(s);
    assert.equal(after.length, before + 1, `${pattern}: expected one read record`);
    assert.equal(typeof after[after.length - 1]!.data.e, "string");
  }
});

test("a gated route that does not pass the gate is answered 500, not with its content", async () => {
  const http = await buildServer(s.app);
  ROUTE_CLASSES.set("GET /_test/leak", "gated");
  ROUTE_CLASSES.set("GET /_test/ok", "gated");
  try {
    http.get("/_test/leak", async () => ({ secret: "room content" }));
    http.get("/_test/ok", async (req) => {
      const { gate } = await import("../../src/http/gate.js");
      const who = await s.app.sessions.authenticate(bob.accessToken);
      await gate(s.app, req, who, "test", { rooms: [] });
      return { fine: true };
    });
    const leak = await http.inject({ method: "GET", url: "/_test/leak" });
    assert.equal(leak.statusCode, 500);
    assert.ok(!leak.body.includes("room content"));
    assert.equal(JSON.parse(leak.body).errcode, "M_UNKNOWN");
    const ok = await http.inject({ method: "GET", url: "/_test/ok" });
    assert.equal(ok.statusCode, 200);
  } finally {
    ROUTE_CLASSES.delete("GET /_test/leak");
    ROUTE_CLASSES.delete("GET /_test/ok");
    await http.close();
  }
});

test("refused reads leave no content and are recorded as denied: stranger, unknown room", async () => {
  const stranger = await s.user("stranger");
  const priv = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "private_chat" } });
  const before = (await reads(s)).length;
  const r1 = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(priv.body.room_id as string)}/messages`, { token: stranger.accessToken });
  assert.equal(r1.status, 403);
  const r2 = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent("!nope:rempart.test")}/messages`, { token: stranger.accessToken });
  assert.equal(r2.status, 404);
  const denied = (await reads(s)).slice(before);
  assert.deepEqual(
    denied.map((r) => [r.data.e, r.data.x, r.data.c, r.data.r]),
    [
      ["messages", "denied", 403, priv.body.room_id],
      ["messages", "denied", 404, "!nope:rempart.test"],
    ],
  );
});
