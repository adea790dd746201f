// What a first initial sync reads of rooms whose state is not in memory (sync/room-state.ts): their
// current state without the member events, a few members by user, the member counts and the first
// members by arrival. Each asks one statement for many rooms, and none reads every member event:
// that read (92,000 rows and 64 MB of JSON for a user in 300 rooms of 300) was most of the first
// sync after a start. The counts and first members come from the index of migration 0018.
import { sql } from "kysely";
import type { Db, Dialect } from "./database.js";

export interface StateIdRow {
  room_id: string;
  type: string;
  state_key: string;
  event_id: string;
  /** Set for the state types asked with their content (room name, canonical alias). */
  json: string | null;
}

export interface FirstMemberRow {
  room_id: string;
  membership: string;
  state_key: string;
  stream_ordering: number | string;
}

type LatestRow = { room_id: string; stream_ordering: number | string | null };

/** Rooms per statement: under SQLite's and PostgreSQL's bind limits with room for the other binds. */
const CHUNK = 500;
const MEMBER = "m.room.member";

async function chunked<T>(ids: string[], run: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await run(ids.slice(i, i + CHUNK))));
  return out;
}

export function currentStateRepo(db: Db, dialect: Dialect) {
  return {
    /** Every current state entry but the members' (with the content of `withContent` types). */
    nonMemberState: (roomIds: string[], withContent: string[]): Promise<StateIdRow[]> =>
      chunked(roomIds, (chunk) =>
        db
          .selectFrom("current_state as cs")
          // A lookup per row asked with content: a join let PostgreSQL (without statistics) hash the
          // whole events table.
          .select(["cs.room_id", "cs.type", "cs.state_key", "cs.event_id"])
          .select((eb) =>
            eb
              .case()
              .when("cs.type", "in", withContent.length ? withContent : [""])
              .then(eb.selectFrom("events as e").select("e.json").whereRef("e.event_id", "=", "cs.event_id"))
              .else(null)
              .end()
              .as("json"),
          )
          .where("cs.room_id", "in", chunk)
          .where("cs.type", "<>", MEMBER)
          .execute() as Promise<StateIdRow[]>,
      ),

    /** The current member events of (room, user) pairs, in statements of up to 1,000 pairs. */
    membersOf: async (pairs: Array<[string, string]>): Promise<Array<{ room_id: string; state_key: string; event_id: string }>> => {
      const out: Array<{ room_id: string; state_key: string; event_id: string }> = [];
      for (let i = 0; i < pairs.length; i += 1000) {
        const chunk = pairs.slice(i, i + 1000);
        // PostgreSQL plans a list of row values as a filter over the whole table: pairs are joined
        // from two arrays instead, each found through the primary key.
        const rows =
          dialect === "postgres"
            ? (
                await sql<{ room_id: string; state_key: string; event_id: string }>`
                  select cs.room_id, cs.state_key, cs.event_id
                  from unnest(${chunk.map((p) => p[0])}::text[], ${chunk.map((p) => p[1])}::text[]) as p(room_id, user_id)
                  join current_state cs on cs.room_id = p.room_id and cs.type = ${MEMBER} and cs.state_key = p.user_id`.execute(db)
              ).rows
            : await db
                .selectFrom("current_state")
                .select(["room_id", "state_key", "event_id"])
                .where("type", "=", MEMBER)
                .where(({ eb, refTuple, tuple }) => eb(refTuple("room_id", "state_key"), "in", chunk.map(([r, u]) => tuple(r, u))))
                .execute();
        out.push(...rows);
      }
      return out;
    },

    /** How many members each room has in each membership. */
    memberCounts: (roomIds: string[]): Promise<Array<{ room_id: string; membership: string | null; n: number | string }>> =>
      chunked(roomIds, (chunk) =>
        db
          .selectFrom("current_state")
          .select((eb) => ["room_id", "membership", eb.fn.countAll<number | string>().as("n")])
          .where("room_id", "in", chunk)
          .where("type", "=", MEMBER)
          .groupBy(["room_id", "membership"])
          .execute(),
      ),

    /**
     * The first `n` members of each room in each of `memberships`, by arrival (their current member
     * event's stream position), oldest first: n entries of the 0018 index per room and membership.
     * PostgreSQL says it with LATERAL; SQLite, which has none, bounds each range by its n-th entry.
     */
    firstMembers: (roomIds: string[], memberships: string[], n: number): Promise<FirstMemberRow[]> =>
      chunked(roomIds, async (chunk) => {
        const query =
          dialect === "postgres"
            ? sql<FirstMemberRow>`
              select r.room_id, m.membership, x.state_key, x.stream_ordering
              from unnest(${chunk}::text[]) as r(room_id)
              cross join unnest(${memberships}::text[]) as m(membership)
              cross join lateral (
                select cs.state_key, cs.stream_ordering from current_state cs
                where cs.room_id = r.room_id and cs.type = ${MEMBER} and cs.membership = m.membership
                order by cs.stream_ordering limit ${n}
              ) x`
            : // CROSS JOIN fixes SQLite's join order: rooms, then memberships, then the index range.
              sql<FirstMemberRow>`
              select r.value as room_id, m.value as membership, cs.state_key, cs.stream_ordering
              from json_each(${JSON.stringify(chunk)}) r
              cross join json_each(${JSON.stringify(memberships)}) m
              cross join current_state cs
              where cs.room_id = r.value and cs.type = ${MEMBER} and cs.membership = m.value
                and cs.stream_ordering <= coalesce((
                  select c2.stream_ordering from current_state c2
                  where c2.room_id = r.value and c2.type = ${MEMBER} and c2.membership = m.value
                  order by c2.stream_ordering limit 1 offset ${n - 1}), 9223372036854775807)`;
        return (await query.execute(db)).rows;
      }),

    /** Each room's newest event position (whether current state is the state at a sync's end):
     * one index lookup per room. */
    latest: (roomIds: string[]): Promise<LatestRow[]> =>
      chunked(roomIds, async (chunk) => {
        const query =
          dialect === "postgres"
            ? sql<LatestRow>`
              select r.room_id, (select max(e.stream_ordering) from events e where e.room_id = r.room_id) as stream_ordering
              from unnest(${chunk}::text[]) as r(room_id)`
            : sql<LatestRow>`
              select r.value as room_id, (select max(e.stream_ordering) from events e where e.room_id = r.value) as stream_ordering
              from json_each(${JSON.stringify(chunk)}) r`;
        return (await query.execute(db)).rows;
      }),
  };
}
