// Request body validation. Bodies are parsed as JSON by the server's content-type parser; routes
// describe the shape they need with a zod schema and get a typed value or a 400 M_BAD_JSON that
// names the offending field.
import type { z } from "zod";
import { badJson, notJson } from "./errors.js";

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined || body === null) throw notJson("A JSON object body is required");
  if (typeof body !== "object" || Array.isArray(body)) throw badJson("The request body must be a JSON object");
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "body";
    throw badJson(`${where}: ${issue.message}`);
  }
  return r.data;
}

/** The body as an object, or {} when the client sent none (endpoints whose body is all optional). */
export function optionalBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parseBody(schema, body === undefined || body === null ? {} : body);
}
