// Room fixtures for read-gate tests, driven over HTTP.
import assert from "node:assert/strict";
import { call } from "./http.js";
import type { TestServer, TestUser } from "./server.js";

const C = "/_matrix/client/v3";
const enc = encodeURIComponent;

export async function publicRoom(s: TestServer, owner: TestUser, name: string): Promise<string> {
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: owner.accessToken, body: { name, preset: "public_chat" } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.room_id as string;
}

let txn = 0;
export async function sendMany(s: TestServer, u: TestUser, room: string, n: number, tick?: () => void): Promise<void> {
  for (let i = 0; i < n; i++) {
    tick?.();
    const r = await call(s.url, "PUT", `${C}/rooms/${enc(room)}/send/m.room.message/f${++txn}`, { token: u.accessToken, body: { msgtype: "m.text", body: `message ${i}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

export async function join(s: TestServer, u: TestUser, room: string): Promise<void> {
  const r = await call(s.url, "POST", `${C}/join/${enc(room)}`, { token: u.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

export const messages = (s: TestServer, u: TestUser | string, room: string, query = "limit=50") =>
  call(s.url, "GET", `${C}/rooms/${enc(room)}/messages?dir=b&${query}`, { token: typeof u === "string" ? u : u.accessToken });

export async function login(s: TestServer, localpart: string, password: string, deviceId?: string): Promise<{ token: string; deviceId: string; status: number }> {
  const r = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: localpart }, password, device_id: deviceId } });
  return { token: r.body.access_token as string, deviceId: r.body.device_id as string, status: r.status };
}
