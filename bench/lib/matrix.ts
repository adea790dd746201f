// Minimal Matrix client calls for benchmarks (node:http, keep-alive: see http-json.ts), loopback only.
import { callJson } from "./http-json.js";

const call = <T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> =>
  callJson<T>(base + path, method, { body, token });

export interface Session {
  user_id: string;
  access_token: string;
  device_id: string;
}

/** Registers through the API (needs REMPART_ENABLE_REGISTRATION=true). */
export const register = (base: string, username: string, password: string) =>
  call<Session>(base, "POST", "/_matrix/client/v3/register", { username, password, auth: { type: "m.login.dummy" } });

export const login = (base: string, user: string, password: string) =>
  call<Session>(base, "POST", "/_matrix/client/v3/login", {
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
  });

export const whoami = (base: string, token: string) =>
  call<{ user_id: string; device_id?: string }>(base, "GET", "/_matrix/client/v3/account/whoami", undefined, token);

export const logout = (base: string, token: string) => call<object>(base, "POST", "/_matrix/client/v3/logout", {}, token);

export const versions = (base: string) => call<{ versions: string[] }>(base, "GET", "/_matrix/client/versions");
