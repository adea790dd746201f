// Reconstructs what one account read from the audit trail (docs/read-gate.md "Forensic report"):
// the account's session records give the session seqs its reads refer to; each read record's
// recorded range (first/last event id, or one event id, or the pagination tokens of older records)
// is resolved against the events table to the events returned, their types and senders.
import type { AuditRow } from "../../storage/audit.js";
import { forensicsRepo, type RangeEvent } from "../../storage/forensics.js";
import type { Db } from "../../storage/database.js";
import type { ReaderLine, RoomLine, SessionLine, UserReport } from "./model.js";

type Rec = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const parse = (r: AuditRow): Rec => {
  try {
    return JSON.parse(r.data) as Rec;
  } catch {
    return {};
  }
};
const tokenPos = (t: unknown): number | undefined => (typeof t === "string" && /^t\d+$/.test(t) ? Number(t.slice(1)) : undefined);

/** The events one read record says it returned, and whether the resolution matched its count. */
export class RangeResolver {
  constructor(private readonly repo: ReturnType<typeof forensicsRepo>) {}

  /** Resolves a page of records (one room each); returns the events of each, by seq. */
  async resolve(recs: { seq: number; d: Rec }[]): Promise<Map<number, { events: RangeEvent[]; exact: boolean }>> {
    const ids = new Set<string>();
    const listed = (d: Rec): string[] | undefined => (Array.isArray(d.ids) ? (d.ids as unknown[]).filter((x): x is string => typeof x === "string") : undefined);
    for (const { d } of recs) {
      for (const k of ["i", "a", "z"]) if (str(d[k])) ids.add(d[k] as string);
      for (const id of listed(d) ?? []) ids.add(id);
    }
    const pos = await this.repo.positions([...ids]);
    const out = new Map<number, { events: RangeEvent[]; exact: boolean }>();
    const specs: { seq: number; room: string; lo: number; hi: number }[] = [];
    // Listed events (filtered reads) are matched by position, not scanned against every range.
    const points = new Map<string, number[]>();
    const pointSpecs: typeof specs = [];
    for (const { seq, d } of recs) {
      const room = d.r as string;
      const n = num(d.n);
      const one = str(d.i) ? pos.get(d.i as string) : undefined;
      const a = str(d.a) ? pos.get(d.a as string) : undefined;
      const z = str(d.z) ? pos.get(d.z as string) : undefined;
      out.set(seq, { events: [], exact: false });
      const list = listed(d);
      if (list) {
        // A filtered read: exactly the events listed (each its own one-event range).
        for (const id of list) {
          const p = pos.get(id);
          if (!p || p.room_id !== room) continue;
          const key = `${room}|${p.pos}`;
          if (!points.has(key)) pointSpecs.push({ seq, room, lo: p.pos, hi: p.pos });
          points.set(key, [...(points.get(key) ?? []), seq]);
        }
      } else if (one && one.room_id === room) specs.push({ seq, room, lo: one.pos, hi: one.pos });
      else if (a && z && a.room_id === room && z.room_id === room) specs.push({ seq, room, lo: Math.min(a.pos, z.pos), hi: Math.max(a.pos, z.pos) });
      else if (d.i === undefined && d.a === undefined && tokenPos(d.f) !== undefined) {
        // Records written before first/last ids were kept beside tokens: /messages ranges.
        const f = tokenPos(d.f)!;
        const t = tokenPos(d.t);
        if (t === undefined) out.get(seq)!.events = await this.repo.range(room, 0, f, n);
        else specs.push({ seq, room, lo: Math.min(f, t) + 1, hi: Math.max(f, t) });
      }
    }
    // Every event of the batched ranges goes to each range of its room that holds it (re-reads overlap).
    const byRoom = new Map<string, typeof specs>();
    for (const sp of specs) byRoom.set(sp.room, [...(byRoom.get(sp.room) ?? []), sp]);
    for (const e of await this.repo.ranges(specs)) {
      for (const sp of byRoom.get(e.room_id) ?? []) if (e.stream_ordering >= sp.lo && e.stream_ordering <= sp.hi) out.get(sp.seq)!.events.push(e);
    }
    for (const e of await this.repo.ranges(pointSpecs)) for (const seq of points.get(`${e.room_id}|${e.stream_ordering}`) ?? []) out.get(seq)!.events.push(e);
    for (const { seq, d } of recs) {
      const r = out.get(seq)!;
      r.exact = r.events.length === num(d.n);
    }
    return out;
  }
}

const allowed = (d: Rec) => d.x === undefined;

/** Everything the account's sessions did between since and until. */
export async function collectUser(db: Db, userId: string, since: number, until: number): Promise<Omit<UserReport, "trail">> {
  const repo = forensicsRepo(db);
  const resolver = new RangeResolver(repo);
  // Session records of the account, whenever written (a session opened before `since` reads after it).
  const sessions = new Map<number, SessionLine>();
  for await (const page of repo.scan(["session"], 0, Number.MAX_SAFE_INTEGER)) {
    for (const r of page) {
      const d = parse(r);
      if (d.u === userId) sessions.set(r.seq, { session_id: d.sid, device_id: d.d, ip: String(d.ip ?? ""), user_agent: String(d.ua ?? ""), reads: 0 });
    }
  }
  const rooms = new Map<string, RoomLine>();
  const roomLine = (id: string, ts: number): RoomLine => {
    let l = rooms.get(id);
    if (!l) rooms.set(id, (l = { room_id: id, reads: 0, events: 0, messages: 0, sync_events: 0, first_ts: ts, last_ts: ts }));
    l.first_ts = Math.min(l.first_ts, ts);
    l.last_ts = Math.max(l.last_ts, ts);
    return l;
  };
  const messageIds = new Set<string>();
  const people = new Map<string, number>();
  const roomsRead = new Set<string>();
  const media = new Map<string, UserReport["media"][number]>();
  const directory: UserReport["directory"] = [];
  const containment: UserReport["containment"] = [];
  const logins: UserReport["logins"] = [];
  const refused = { throttled: 0, denied: 0 };
  let usersEnumerated = 0;
  let inexact = 0;
  let mediaCount = 0;
  let mediaBytes = 0;

  for await (const page of repo.scan(["read", "containment", "auth"], since, until)) {
    const ranged: { seq: number; d: Rec; ts: number }[] = [];
    for (const r of page) {
      const d = parse(r);
      if (r.kind === "auth") {
        if (d.u === userId) logins.push({ ts: r.ts, event: String(d.e), decision: String(d.x ?? ""), ip: String(d.ip ?? ""), device_id: d.d });
        continue;
      }
      const s = sessions.get(num(d.s));
      if (!s || d.s === undefined) continue;
      if (r.kind === "containment") {
        containment.push({ ts: r.ts, action: String(d.a), metric: String(d.m), scope: String(d.k), value: num(d.v), limit: num(d.l) });
        continue;
      }
      s.reads++;
      s.first_ts = Math.min(s.first_ts ?? r.ts, r.ts);
      s.last_ts = Math.max(s.last_ts ?? r.ts, r.ts);
      if (!allowed(d)) {
        if (d.x === "throttled") refused.throttled++;
        else refused.denied++;
        continue;
      }
      if (d.e === "join") continue;
      if (str(d.mx)) {
        mediaCount++;
        mediaBytes += num(d.b);
        const m = media.get(d.mx as string) ?? { media_id: d.mx as string, downloads: 0, bytes: 0, first_ts: r.ts, last_ts: r.ts };
        m.downloads++;
        m.bytes += num(d.b);
        m.last_ts = r.ts;
        media.set(m.media_id, m);
      }
      if (str(d.q) !== undefined) {
        directory.push({ ts: r.ts, endpoint: String(d.e), query: d.q as string, results: num(d.n) });
        if (d.e === "user_directory") usersEnumerated += num(d.n);
      }
      const sync = d.e === "sync";
      if (d.rs && typeof d.rs === "object") {
        for (const [room, v] of Object.entries(d.rs as Record<string, number[]>)) {
          const l = roomLine(room, r.ts);
          l.reads++;
          const n = Array.isArray(v) ? num(v[0]) : 0;
          l.events += n;
          if (sync) l.sync_events += n;
          else roomsRead.add(room);
        }
      } else if (str(d.r)) {
        const l = roomLine(d.r as string, r.ts);
        l.reads++;
        l.events += num(d.n);
        if (!sync) roomsRead.add(d.r as string);
        if (num(d.n) > 0) ranged.push({ seq: r.seq, d, ts: r.ts });
      }
    }
    const resolved = await resolver.resolve(ranged);
    for (const { seq, d } of ranged) {
      const res = resolved.get(seq)!;
      if (!res.exact) inexact++;
      const l = rooms.get(d.r as string)!;
      for (const e of res.events) {
        if (e.type !== "m.room.message" || messageIds.has(e.event_id)) continue;
        messageIds.add(e.event_id);
        people.set(e.sender, (people.get(e.sender) ?? 0) + 1);
        l.messages++;
      }
    }
  }
  const ips = new Map<string, number>();
  for (const s of sessions.values()) if (s.reads) ips.set(s.ip, (ips.get(s.ip) ?? 0) + s.reads);
  return {
    kind: "user",
    user_id: userId,
    since,
    until,
    totals: { messages: messageIds.size, rooms: roomsRead.size, media: mediaCount, mediaBytes, people: people.size },
    rooms: [...rooms.values()].sort((a, b) => b.events - a.events || a.room_id.localeCompare(b.room_id)),
    people: [...people].map(([user_id, messages]) => ({ user_id, messages })).sort((a, b) => b.messages - a.messages || a.user_id.localeCompare(b.user_id)),
    media: [...media.values()].sort((a, b) => a.first_ts - b.first_ts),
    directory,
    users_enumerated_max: usersEnumerated,
    sessions: [...sessions.values()].filter((s) => s.reads > 0),
    ips: [...ips].map(([ip, reads]) => ({ ip, reads })).sort((a, b) => b.reads - a.reads),
    logins,
    containment,
    refused_reads: refused,
    inexact_ranges: inexact,
  };
}

/** Who read a room (or, with `eventId`, a read whose returned range held that event). */
export async function collectReaders(db: Db, roomId: string, eventId: string | undefined, since: number, until: number): Promise<ReaderLine[]> {
  const repo = forensicsRepo(db);
  const resolver = new RangeResolver(repo);
  let target: number | undefined;
  if (eventId !== undefined) {
    const p = (await repo.positions([eventId])).get(eventId);
    if (!p || p.room_id !== roomId) return [];
    target = p.pos;
  }
  const hits: { s: number; ts: number; events: number }[] = [];
  for await (const page of repo.scan(["read"], since, until)) {
    const ranged: { seq: number; d: Rec; ts: number }[] = [];
    for (const r of page) {
      const d = parse(r);
      if (!allowed(d) || d.e === "join" || d.s === undefined) continue;
      const rs = d.rs && typeof d.rs === "object" ? (d.rs as Record<string, number[]>)[roomId] : undefined;
      if (target === undefined) {
        if (d.r === roomId) hits.push({ s: num(d.s), ts: r.ts, events: num(d.n) });
        else if (rs) hits.push({ s: num(d.s), ts: r.ts, events: num(rs[0]) });
      } else if (d.r === roomId && num(d.n) > 0) ranged.push({ seq: r.seq, d, ts: r.ts });
    }
    if (target !== undefined) {
      const resolved = await resolver.resolve(ranged);
      for (const { seq, d, ts } of ranged) if (resolved.get(seq)!.events.some((e) => e.stream_ordering === target)) hits.push({ s: num(d.s), ts, events: num(d.n) });
    }
  }
  const sessions = new Map((await repo.bySeq([...new Set(hits.map((h) => h.s))])).map((r) => [r.seq, parse(r)]));
  const byUser = new Map<string, ReaderLine & { ipSet: Set<string> }>();
  for (const h of hits) {
    const s = sessions.get(h.s);
    const user = String(s?.u ?? "(unknown session)");
    let l = byUser.get(user);
    if (!l) byUser.set(user, (l = { user_id: user, reads: 0, events: 0, first_ts: h.ts, last_ts: h.ts, ips: [], ipSet: new Set() }));
    l.reads++;
    l.events += h.events;
    l.first_ts = Math.min(l.first_ts, h.ts);
    l.last_ts = Math.max(l.last_ts, h.ts);
    if (s?.ip !== undefined) l.ipSet.add(String(s.ip));
  }
  return [...byUser.values()].map(({ ipSet, ...l }) => ({ ...l, ips: [...ipSet].sort() })).sort((a, b) => b.events - a.events || a.user_id.localeCompare(b.user_id));
}
