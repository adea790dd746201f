// Sync filters (client-server API "Filtering"): stored per user, referenced by id from /sync.
import { z } from "zod";
import type { Storage } from "../storage/database.js";
import { filtersRepo } from "../storage/filters.js";
import { badJson, notFound } from "../http/errors.js";

const stringList = z.array(z.string());
const eventFilter = z.looseObject({
  limit: z.number().int().min(0).optional(),
  types: stringList.optional(),
  not_types: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
});
const roomEventFilter = eventFilter.extend({
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  unread_thread_notifications: z.boolean().optional(),
});

/** The shape of a Filter (spec "POST /user/{userId}/filter"). Unknown keys are kept. */
export const filterSchema = z.looseObject({
  event_fields: stringList.optional(),
  event_format: z.enum(["client", "federation"]).optional(),
  presence: eventFilter.optional(),
  account_data: eventFilter.optional(),
  room: z
    .looseObject({
      rooms: stringList.optional(),
      not_rooms: stringList.optional(),
      include_leave: z.boolean().optional(),
      timeline: roomEventFilter.optional(),
      state: roomEventFilter.optional(),
      ephemeral: roomEventFilter.optional(),
      account_data: roomEventFilter.optional(),
    })
    .optional(),
});

export type Filter = z.infer<typeof filterSchema>;

const RESOLVED_MAX = 10_000;

export class Filters {
  private readonly repo;
  private readonly resolved = new Map<string, Filter>();

  constructor(storage: Storage) {
    this.repo = filtersRepo(storage.db);
  }

  async create(userId: string, filter: Filter): Promise<string> {
    return String(await this.repo.create(userId, JSON.stringify(filter)));
  }

  async get(userId: string, filterId: string): Promise<Filter> {
    if (!/^\d{1,9}$/.test(filterId)) throw notFound("No such filter");
    const row = await this.repo.get(userId, Number(filterId));
    if (!row) throw notFound("No such filter");
    return JSON.parse(row.filter_json) as Filter;
  }

  /**
   * A filter given to /sync as inline JSON or as a stored id. Every sync of a client repeats the
   * same one and a filter never changes once created (the spec has no update), so resolved filters
   * are kept (read-only: callers must not modify them).
   */
  async resolve(userId: string, param: string | undefined): Promise<Filter | undefined> {
    if (param === undefined || param === "") return undefined;
    const key = `${userId}\u0000${param}`;
    const hit = this.resolved.get(key);
    if (hit) return hit;
    const filter = await this.parse(userId, param);
    if (this.resolved.size >= RESOLVED_MAX) this.resolved.delete(this.resolved.keys().next().value!);
    this.resolved.set(key, filter);
    return filter;
  }

  private async parse(userId: string, param: string): Promise<Filter> {
    if (param.trimStart().startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(param);
      } catch {
        throw badJson("filter is not valid JSON");
      }
      const r = filterSchema.safeParse(parsed);
      if (!r.success) throw badJson(`filter: ${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`);
      return r.data;
    }
    return this.get(userId, param);
  }
}
