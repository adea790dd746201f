// The read gate (DESIGN.md invariant 2): every event, state, member list, search hit, directory
// page or media byte that leaves the server for a client is handed to release() by its route just
// before it is returned. The gate writes one audit record per read request (ranges and counts, not
// a row per event), meters it, and applies containment; it answers with a Matrix error instead of
// the data when the reader is contained. See docs/read-gate.md.
import type { Logger } from "pino";
import type { Requester } from "../accounts/sessions.js";
import type { Storage } from "../storage/database.js";
import { readGateRepo } from "../storage/audit.js";
import type { AuditTrail } from "./audit/chain.js";
import type { Containment, ReadGateConfig } from "./containment.js";
import type { Increments, Meters } from "./meters.js";

/** The least the gate needs of an event: its id and when it was sent. */
export interface EventRef {
  event_id: string;
  origin_server_ts: number;
}

/** What one read returns from one room. */
export interface RoomRead {
  roomId: string;
  events?: readonly EventRef[];
  /** State events returned beside the timeline. */
  state?: number;
  /** Size of a member list returned (counts toward member_lists). */
  members?: number;
  /** Pagination tokens bounding the range returned (the range the client got, to reconstruct it). */
  from?: string;
  to?: string;
  /** The newest N events of this room never count as history (a sync's usual timeline). */
  free?: number;
  /** The events are a subset of their range (a filter such as contains_url left the rest out): their
   * ids are recorded, so that the forensic report counts exactly these and not the whole range. */
  sparse?: boolean;
}

export interface ReadDescriptor {
  rooms?: readonly RoomRead[];
  /** A room or user directory query (or alias resolution) and how many entries it returned. */
  directory?: { query: string; results: number };
  /** A media download or thumbnail. */
  media?: { mediaId: string; bytes: number };
  /** Key-backup download: how many session keys (encrypted with the user's backup key) it held. */
  keyBackup?: { sessions: number };
  /** /sync: rooms returned are not "rooms read" (a client's normal sync covers all its rooms). */
  sync?: boolean;
}

export interface ReadRequest {
  who: Requester;
  ip: string;
  userAgent?: string;
  /** Short endpoint name, e.g. "messages" (kept short: it is in every record). */
  endpoint: string;
}

const JOIN_CACHE_MS = 60_000;
const SESSION_CACHE_MAX = 10_000;

export class ReadGate {
  private readonly repo;
  private readonly allow: Set<string>;
  private readonly historyMs: number;
  private readonly joinCache = new Map<string, { ts: number | null; exp: number }>();
  private readonly sessionRefs = new Map<string, number>();

  constructor(
    private readonly cfg: ReadGateConfig,
    private readonly audit: AuditTrail,
    private readonly meters: Meters,
    private readonly containment: Containment,
    storage: Storage,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.repo = readGateRepo(storage.db);
    this.allow = new Set(cfg.allowlist);
    this.historyMs = cfg.history_days * 86_400_000;
  }

  get enabled(): boolean {
    return this.cfg.enabled;
  }

  /** Records, meters and (when the reader is contained) refuses one read. Throws the Matrix error
   * to answer with instead of the data. */
  async release(r: ReadRequest, d: ReadDescriptor): Promise<void> {
    if (!this.cfg.enabled) return;
    // A sync that returns no room (an empty long-poll answer) returns no room content.
    if (d.sync && !d.rooms?.length) return;
    const now = this.now();
    const s = this.session(r);
    const rec: Record<string, unknown> = { s, e: r.endpoint };
    const inc: Increments = {};
    const roomsRead: string[] = [];
    let history = 0;
    if (d.rooms) {
      const multi = d.rooms.length !== 1;
      const perRoom: Record<string, number[]> = {};
      let total = 0;
      for (const room of d.rooms) {
        const events = room.events ?? [];
        const h = events.length ? await this.historyCount(r.who.userId, room, now) : 0;
        history += h;
        total += events.length;
        if (room.members !== undefined) inc.member_lists = (inc.member_lists ?? 0) + 1;
        if (!d.sync) roomsRead.push(room.roomId);
        if (multi) perRoom[room.roomId] = room.state ? [events.length, room.state] : [events.length];
        else Object.assign(rec, single(room, events));
      }
      if (multi) {
        rec.rs = perRoom;
        rec.n = total;
      }
      if (history) rec.h = history;
    }
    if (d.directory) {
      inc.directory_queries = 1;
      rec.q = d.directory.query.slice(0, 256);
      rec.n = d.directory.results;
    }
    if (d.media) {
      inc.media_files = 1;
      inc.media_bytes = d.media.bytes;
      rec.mx = d.media.mediaId;
      rec.b = d.media.bytes;
    }
    if (d.keyBackup) rec.kb = d.keyBackup.sessions;
    if (history) inc.history_events = history;
    if (this.allow.has(r.who.userId)) {
      this.audit.append("read", rec, now);
      return;
    }
    const refusal = await this.containment.apply(r.who, r.ip, s, inc, roomsRead);
    if (refusal) rec.x = refusal.errcode === "M_LIMIT_EXCEEDED" ? "throttled" : "denied";
    this.audit.append("read", rec, now);
    if (refusal) throw refusal;
  }

  /** A read without an account (the legacy unauthenticated media endpoints): recorded, by IP. */
  anonymous(r: { ip: string; userAgent?: string; endpoint: string }, d: ReadDescriptor): void {
    if (!this.cfg.enabled) return;
    const rec: Record<string, unknown> = { e: r.endpoint, ip: r.ip, ua: (r.userAgent ?? "").slice(0, 512) };
    if (d.media) {
      rec.mx = d.media.mediaId;
      rec.b = d.media.bytes;
    }
    this.audit.append("read", rec, this.now());
  }

  /** A join about to happen: recorded and metered as rooms_joined (refused when contained). */
  async noteJoin(r: ReadRequest, roomId: string): Promise<void> {
    if (!this.cfg.enabled) return;
    const s = this.session(r);
    this.audit.append("read", { s, e: r.endpoint, r: roomId });
    if (this.allow.has(r.who.userId)) return;
    const refusal = await this.containment.apply(r.who, r.ip, s, { rooms_joined: 1 }, []);
    if (refusal) throw refusal;
  }

  /** A read refused by access control, recorded with decision "denied". */
  async denied(r: ReadRequest, what: { roomId?: string; eventId?: string; status: number }): Promise<void> {
    if (!this.cfg.enabled) return;
    const rec: Record<string, unknown> = { s: this.session(r), e: r.endpoint, x: "denied", c: what.status };
    if (what.roomId !== undefined) rec.r = what.roomId.slice(0, 255);
    if (what.eventId !== undefined) rec.i = what.eventId.slice(0, 255);
    this.audit.append("read", rec);
  }

  /** A join happened: the reader's join time in that room changed. */
  joined(roomId: string, userId: string): void {
    this.joinCache.delete(`${roomId}|${userId}`);
  }

  /** Who is reading, recorded once per session, IP and user agent; reads refer to it by seq. */
  private session(r: ReadRequest): number {
    const ua = (r.userAgent ?? "").slice(0, 512);
    const key = `${r.who.tokenId}|${r.ip}|${ua}`;
    let seq = this.sessionRefs.get(key);
    if (seq === undefined) {
      seq = this.audit.append("session", { u: r.who.userId, d: r.who.deviceId, sid: r.who.tokenId, ip: r.ip, ua });
      if (this.sessionRefs.size >= SESSION_CACHE_MAX) this.sessionRefs.clear();
      this.sessionRefs.set(key, seq);
    }
    return seq;
  }

  /** Events read that are history: older than the reader's join, or older than history_days,
   * leaving out the newest `free` events (a sync's ordinary timeline). */
  private async historyCount(userId: string, room: RoomRead, now: number): Promise<number> {
    const events = room.events!;
    // No more events than the free ones: none can count (and no join time need be read: a first
    // sync in 300 rooms read 300 of them one after the other).
    if (room.free !== undefined && events.length <= room.free) return 0;
    const joinTs = await this.joinedAt(room.roomId, userId, now);
    const cutoff = Math.max(joinTs ?? 0, now - this.historyMs);
    let h = 0;
    for (const e of events) if (e.origin_server_ts < cutoff) h++;
    // History events are the oldest ones, so dropping the newest `free` leaves min(h, n - free).
    return room.free ? Math.min(h, Math.max(0, events.length - room.free)) : h;
  }

  /** When the reader's current (or last) membership run started, from their member events. */
  private async joinedAt(roomId: string, userId: string, now: number): Promise<number | null> {
    const key = `${roomId}|${userId}`;
    const hit = this.joinCache.get(key);
    if (hit && hit.exp > now) return hit.ts;
    let ts: number | null = null;
    let joined = false;
    for (const m of await this.repo.membershipTimeline(roomId, userId)) {
      if (m.membership === "join" && !joined) ts = Number(m.origin_server_ts);
      joined = m.membership === "join";
    }
    if (this.joinCache.size > 100_000) this.joinCache.clear();
    this.joinCache.set(key, { ts, exp: now + JOIN_CACHE_MS });
    return ts;
  }
}

/** The compact record fields of a one-room read: room, count, and the range (tokens, or event ids). */
function single(room: RoomRead, events: readonly EventRef[]): Record<string, unknown> {
  const out: Record<string, unknown> = { r: room.roomId, n: events.length };
  if (room.state) out.st = room.state;
  if (room.members !== undefined) out.mb = room.members;
  if (room.from !== undefined) out.f = room.from;
  if (room.to !== undefined) out.t = room.to;
  // Two tokens bound the range returned (either direction). Without both (a last page has no end
  // token, and its direction is unknown), the first and last event ids are kept too, so that the
  // forensic report (src/security/forensics) resolves every range exactly.
  if (room.sparse && events.length > 0) {
    out.ids = events.map((e) => e.event_id);
    return out;
  }
  const ids = room.from === undefined || room.to === undefined;
  if (ids && events.length === 1) out.i = events[0]!.event_id;
  else if (ids && events.length > 1) {
    out.a = events[0]!.event_id;
    out.z = events[events.length - 1]!.event_id;
  }
  return out;
}
