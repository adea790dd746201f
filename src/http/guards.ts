// Input guards applied to every request before any route runs, so that no input can reach a service
// or the database in a shape that makes it fail with a 500 (DESIGN.md invariant 4).
import type { FastifyReply, FastifyRequest } from "fastify";
import { MatrixError, badJson, invalidParam } from "./errors.js";

/** Deepest JSON nesting accepted in a body. Real Matrix content stays far below this; deeper input
 * would only exhaust the stack of the recursive code that serialises, hashes or signs it. */
export const MAX_JSON_DEPTH = 128;

/** True when a parsed JSON value nests objects/arrays deeper than `max` (checked without recursion). */
export function jsonTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

export const tooDeep = () => badJson(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);

const hasNul = (v: unknown): boolean =>
  typeof v === "string" ? v.includes("\u0000") : Array.isArray(v) ? v.some(hasNul) : false;

/** No Matrix identifier, type or query parameter contains U+0000, and PostgreSQL cannot store it in
 * text: refuse it in path parameters and the query string with 400 M_INVALID_PARAM. */
export function rejectNulInParams(req: FastifyRequest): void {
  for (const source of [req.params, req.query]) {
    if (typeof source !== "object" || source === null) continue;
    for (const [k, v] of Object.entries(source)) {
      if (hasNul(v) || k.includes("\u0000")) throw invalidParam("Parameters must not contain NUL characters");
    }
  }
}

/** Errors fastify raises before routing (fastify's `frameworkErrors`), as Matrix errors. */
export function frameworkError(error: { code?: string }): MatrixError {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      return invalidParam("The request path is not validly percent-encoded");
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new MatrixError(414, "M_INVALID_PARAM", "A path parameter is too long");
    default:
      return new MatrixError(500, "M_UNKNOWN", "Internal server error");
  }
}

/** Sends a framework error; these replies bypass the hooks, so the CORS headers come with them. */
export function sendFrameworkError(error: { code?: string }, reply: unknown, cors: Record<string, string>): void {
  const err = frameworkError(error);
  void (reply as FastifyReply).code(err.status).headers({ ...cors, ...err.headers }).send(err.body());
}
