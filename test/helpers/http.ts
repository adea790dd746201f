// A minimal HTTP client for tests that check raw status codes and error bodies.
import assert from "node:assert/strict";
export interface Res {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { _text: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Asserts a Matrix error answer: its status and errcode (`what` says which call, in the message). */
export function assertError(res: Res, status: number, errcode: string, what = ""): void {
  assert.equal(res.status, status, `${what} ${JSON.stringify(res.body)}`.trim());
  assert.equal(res.body.errcode, errcode, `${what} ${JSON.stringify(res.body)}`.trim());
}
