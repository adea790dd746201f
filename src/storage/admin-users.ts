// Admin queries over users (Synapse admin API "List Accounts", "Query User Account"), the erased
// flag, and the server notices room of each user.
import { sql, type SqlBool } from "kysely";
import type { Db } from "./database.js";

export type UserOrder = "name" | "admin" | "user_type" | "deactivated" | "displayname" | "avatar_url" | "creation_ts" | "last_seen_ts";

export interface UserListQuery {
  from: number;
  limit: number;
  /** Substring of the user id (ignored when `name` is given, as in Synapse). */
  userId?: string;
  /** Substring of the localpart or the display name. */
  name?: string;
  /** Include deactivated accounts. */
  deactivated: boolean;
  /** true: only admins; false: no admins; undefined: everyone. */
  admins?: boolean;
  orderBy: UserOrder;
  dir: "f" | "b";
}

export interface AdminUserRow {
  user_id: string;
  localpart: string;
  admin: number;
  deactivated: number;
  locked: number;
  user_type: string | null;
  displayname: string | null;
  avatar_url: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  erased: number;
}

const ORDER_COLUMN: Record<UserOrder, string> = {
  name: "u.user_id",
  admin: "u.admin",
  user_type: "u.user_type",
  deactivated: "u.deactivated",
  displayname: "u.displayname",
  avatar_url: "u.avatar_url",
  creation_ts: "u.created_ts",
  last_seen_ts: "last_seen_ts",
};

/** `%term%` for LIKE, with the wildcards of the term itself escaped (ESCAPE '\'). */
export function containsPattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const lowerLike = (column: string, term: string) => sql<SqlBool>`lower(${sql.ref(column)}) like ${containsPattern(term)} escape '\\'`;

export const adminUsersRepo = (db: Db) => {
  const base = (q: UserListQuery) => {
    let b = db.selectFrom("users as u");
    if (!q.deactivated) b = b.where("u.deactivated", "=", 0);
    if (q.admins !== undefined) b = b.where("u.admin", "=", q.admins ? 1 : 0);
    if (q.name !== undefined && q.name !== "") {
      const name = q.name;
      b = b.where((eb) => eb.or([lowerLike("u.localpart", name), lowerLike("u.displayname", name)]));
    } else if (q.userId !== undefined && q.userId !== "") {
      b = b.where(lowerLike("u.user_id", q.userId));
    }
    return b;
  };

  const rowSelect = (b: ReturnType<typeof base>) =>
    b.select((eb) => [
      "u.user_id",
      "u.localpart",
      "u.admin",
      "u.deactivated",
      "u.locked",
      "u.user_type",
      "u.displayname",
      "u.avatar_url",
      "u.created_ts",
      eb.selectFrom("devices as d").select((x) => x.fn.max("d.last_seen_ts").as("m")).whereRef("d.user_id", "=", "u.user_id").as("last_seen_ts"),
      eb.selectFrom("erased_users as e").select((x) => x.fn.countAll().as("n")).whereRef("e.user_id", "=", "u.user_id").as("erased"),
    ]);

  return {
    async list(q: UserListQuery): Promise<{ rows: AdminUserRow[]; total: number }> {
      const total = Number((await base(q).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      const dir = q.dir === "b" ? "desc" : "asc";
      const rows = await rowSelect(base(q))
        .orderBy(sql.ref(ORDER_COLUMN[q.orderBy]), dir)
        .orderBy("u.user_id", dir)
        .limit(q.limit)
        .offset(q.from)
        .execute();
      return { rows: rows.map(normalise), total };
    },

    async get(userId: string): Promise<AdminUserRow | undefined> {
      const row = await rowSelect(db.selectFrom("users as u") as ReturnType<typeof base>)
        .where("u.user_id", "=", userId)
        .executeTakeFirst();
      return row ? normalise(row) : undefined;
    },

    markErased: (userId: string, ts: number) =>
      db.insertInto("erased_users").values({ user_id: userId, erased_ts: ts }).onConflict((oc) => oc.column("user_id").doNothing()).execute(),
    unmarkErased: (userId: string) => db.deleteFrom("erased_users").where("user_id", "=", userId).execute(),

    noticeRoom: (userId: string) => db.selectFrom("server_notice_rooms").select("room_id").where("user_id", "=", userId).executeTakeFirst(),
    setNoticeRoom: (userId: string, roomId: string, ts: number) =>
      db
        .insertInto("server_notice_rooms")
        .values({ user_id: userId, room_id: roomId, created_ts: ts })
        .onConflict((oc) => oc.column("user_id").doUpdateSet({ room_id: roomId, created_ts: ts }))
        .execute(),
  };
};

function normalise(r: Record<string, unknown>): AdminUserRow {
  return {
    user_id: r.user_id as string,
    localpart: r.localpart as string,
    admin: Number(r.admin),
    deactivated: Number(r.deactivated),
    locked: Number(r.locked),
    user_type: (r.user_type as string | null) ?? null,
    displayname: (r.displayname as string | null) ?? null,
    avatar_url: (r.avatar_url as string | null) ?? null,
    created_ts: Number(r.created_ts),
    last_seen_ts: r.last_seen_ts === null || r.last_seen_ts === undefined ? null : Number(r.last_seen_ts),
    erased: Number(r.erased ?? 0),
  };
}
