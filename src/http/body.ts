// Request body validation. Bodies are parsed as JSON by the server's content-type parser; routes
// describe the shape they need with a zod schema and get a typed value or a 400 M_BAD_JSON that
// names the offending field.
import { z } from "zod";
import { badJson, notJson } from "./errors.js";

/** A string that may be stored in a text column or used in a query: PostgreSQL cannot hold U+0000
 * in text, so it is refused here with M_BAD_JSON rather than failing in the database. */
export const text = () => z.string().regex(/^[^\u0000]*$/, "must not contain NUL characters");

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === undefined) throw notJson("A JSON object body is required");
  // JSON null, numbers, strings and arrays are valid JSON but not the object the endpoint takes.
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badJson("The request body must be a JSON object");
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "body";
    throw badJson(`${where}: ${issue.message}`);
  }
  return r.data;
}

/** The body as an object, or {} when the client sent none (endpoints whose body is all optional).
 * An explicit JSON null is not "none": it is refused like any other non-object. */
export function optionalBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parseBody(schema, body === undefined ? {} : body);
}
