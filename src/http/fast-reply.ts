// A JSON 200 answer written straight to node:http, for the one route where fastify's generic reply
// path is a measurable share of the work: /sync long-polls, which one message wakes by the
// thousand (docs/sync-and-push.md, "Wake-up"). fastify's path (send → serializer → preSerialization
// and onSend hooks → header checks → end) cost more per woken long-poll than building the response.
//
// The bytes are the normal path's: the same JSON.stringify, the same headers in the same order
// (those the onRequest hooks set, CORS included, then content-type and content-length), the same
// status line; node:http adds Date and the keep-alive headers as for any response. onResponse
// hooks (the request log line) still run: fastify listens for the response's end, not for send().
// test/integration/sync-fast-reply.test.ts compares both paths byte for byte.
//
// What it skips is the onSend hooks, so only a route whose onSend work is already done may use it:
// the read gate's onSend hook fails closed when a gated route answers without passing the gate,
// and this path refuses (falls back to the normal one) unless the request has passed it. Errors
// thrown before it (gate refusals, Matrix errors) take the normal error path; nothing here throws
// after the response is hijacked.
import type { FastifyReply, FastifyRequest } from "fastify";
import { passedGate } from "./gate.js";

const JSON_TYPE = "application/json; charset=utf-8";
let enabled = true;

/** Tests only: answer through fastify's normal path, to compare the two. */
export function setFastReplies(on: boolean): void {
  enabled = on;
}

/**
 * Answers `value` as JSON with status 200, or returns it for fastify to send when the fast path does
 * not apply (HEAD, headers already sent, another status or a content type set, the read gate not passed).
 */
export function replyJson<T>(req: FastifyRequest, reply: FastifyReply, value: T): T | FastifyReply {
  const res = reply.raw;
  if (!enabled || req.method !== "GET" || res.headersSent || reply.statusCode !== 200 || !passedGate(req)) return value;
  if (reply.hasHeader("content-type") || reply.hasHeader("content-length")) return value;
  const body = JSON.stringify(value);
  // The headers set so far (the onRequest hooks'), in order, then fastify's two.
  const headers = reply.getHeaders() as Record<string, string | string[] | number>;
  headers["content-type"] = JSON_TYPE;
  headers["content-length"] = String(Buffer.byteLength(body));
  reply.hijack();
  res.writeHead(200, headers);
  res.end(body);
  return reply;
}
