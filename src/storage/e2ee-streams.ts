// The two end-to-end streams sync serves: device-list changes and to-device messages.
import { sql } from "kysely";
import type { Db } from "./database.js";

export interface DeviceListRow {
  stream_id: number;
  user_id: string;
  observer: string;
  kind: string;
}

export const e2eStreamsRepo = (db: Db) => ({
  async maxDeviceListId(): Promise<number> {
    const r = await db.selectFrom("e2e_device_list_stream").select(sql<number | null>`max(stream_id)`.as("m")).executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  async maxToDeviceId(): Promise<number> {
    const r = await db.selectFrom("e2e_to_device_inbox").select(sql<number | null>`max(stream_id)`.as("m")).executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  insertDeviceListRows: (rows: DeviceListRow[]) =>
    rows.length === 0
      ? Promise.resolve()
      : db
          .insertInto("e2e_device_list_stream")
          .values(rows)
          .onConflict((oc) => oc.columns(["stream_id", "user_id", "observer"]).doNothing())
          .execute()
          .then(() => undefined),

  /** Rows in (after, upTo] addressed to everyone ("") or to this observer. */
  deviceListRows: (observer: string, after: number, upTo: number) =>
    db
      .selectFrom("e2e_device_list_stream")
      .select(["stream_id", "user_id", "observer", "kind"])
      .where("stream_id", ">", after)
      .where("stream_id", "<=", upTo)
      .where("observer", "in", ["", observer])
      .orderBy("stream_id")
      .execute(),

  /** Of `candidates`, those joined to at least one of `roomIds`. */
  async joinedAmong(roomIds: string[], candidates: string[]): Promise<Set<string>> {
    if (roomIds.length === 0 || candidates.length === 0) return new Set();
    const rows = await db
      .selectFrom("current_state")
      .select("state_key")
      .distinct()
      .where("type", "=", "m.room.member")
      .where("membership", "=", "join")
      .where("room_id", "in", roomIds)
      .where("state_key", "in", candidates)
      .execute();
    return new Set(rows.map((r) => r.state_key));
  },

  /** Everyone joined to one of these rooms. */
  async joinedIn(roomIds: string[]): Promise<string[]> {
    if (roomIds.length === 0) return [];
    const rows = await db
      .selectFrom("current_state")
      .select("state_key")
      .distinct()
      .where("type", "=", "m.room.member")
      .where("membership", "=", "join")
      .where("room_id", "in", roomIds)
      .execute();
    return rows.map((r) => r.state_key);
  },

  // To-device.
  devicesOf: (userIds: string[]) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; device_id: string }>)
      : db.selectFrom("devices").select(["user_id", "device_id"]).where("user_id", "in", userIds).execute(),

  getTxn: (userId: string, deviceId: string, txnId: string) =>
    db.selectFrom("e2e_to_device_txns").select("txn_id").where("user_id", "=", userId).where("device_id", "=", deviceId).where("txn_id", "=", txnId).executeTakeFirst(),

  insertTxn: (userId: string, deviceId: string, txnId: string, ts: number) =>
    db.insertInto("e2e_to_device_txns").values({ user_id: userId, device_id: deviceId, txn_id: txnId, created_ts: ts }).execute(),

  insertMessages: async (rows: Array<{ user_id: string; device_id: string; stream_id: number; message_json: string }>) => {
    // Chunks keep each statement under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) await db.insertInto("e2e_to_device_inbox").values(rows.slice(i, i + 500)).execute();
  },

  messages: (userId: string, deviceId: string, after: number, upTo: number, limit: number) =>
    db
      .selectFrom("e2e_to_device_inbox")
      .select(["stream_id", "message_json"])
      .where("user_id", "=", userId)
      .where("device_id", "=", deviceId)
      .where("stream_id", ">", after)
      .where("stream_id", "<=", upTo)
      .orderBy("stream_id")
      .limit(limit)
      .execute(),

  /** The device acknowledged everything up to `upTo`. */
  deleteMessagesUpTo: (userId: string, deviceId: string, upTo: number) =>
    db.deleteFrom("e2e_to_device_inbox").where("user_id", "=", userId).where("device_id", "=", deviceId).where("stream_id", "<=", upTo).execute(),

  deleteInboxes: (userId: string, deviceIds?: string[]) => {
    let q = db.deleteFrom("e2e_to_device_inbox").where("user_id", "=", userId);
    if (deviceIds) {
      if (deviceIds.length === 0) return Promise.resolve();
      q = q.where("device_id", "in", deviceIds);
    }
    return q.execute().then(() => undefined);
  },
});
