// Query-string parsing shared by routes: clear 400s instead of NaN or silent defaults.
import { z } from "zod";
import { badJson, invalidParam } from "../errors.js";
import type { RoomEventFilter } from "../../rooms/event-filter.js";

export type Query = Record<string, unknown>;

export function intParam(q: Query, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = q[name];
  if (v === undefined || v === "") return def;
  if (typeof v !== "string" || !/^-?\d{1,16}$/.test(v)) throw invalidParam(`${name} must be an integer`);
  const n = Number(v);
  if (n < min) throw invalidParam(`${name} must be at least ${min}`);
  return Math.min(n, max);
}

export function strParam(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw invalidParam(`${name} must be given once`);
  return v;
}

export function dirParam(q: Query, def: "b" | "f" = "b"): "b" | "f" {
  const v = strParam(q, "dir");
  if (v === undefined) return def;
  if (v !== "b" && v !== "f") throw invalidParam("dir must be b or f");
  return v;
}

const roomEventFilterSchema = z.looseObject({
  limit: z.number().int().min(0).optional(),
  types: z.array(z.string()).optional(),
  not_types: z.array(z.string()).optional(),
  senders: z.array(z.string()).optional(),
  not_senders: z.array(z.string()).optional(),
  rooms: z.array(z.string()).optional(),
  not_rooms: z.array(z.string()).optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
});

/** A RoomEventFilter given inline as JSON in the query string. */
export function roomEventFilterParam(q: Query): RoomEventFilter | undefined {
  const raw = strParam(q, "filter");
  if (raw === undefined || raw === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw badJson("filter is not valid JSON");
  }
  const r = roomEventFilterSchema.safeParse(parsed);
  if (!r.success) throw badJson(`filter: ${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`);
  return r.data as RoomEventFilter;
}

/** Event content: any JSON object. */
export function contentBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badJson("Content must be a JSON object");
  return body as Record<string, unknown>;
}
