// The forensic report's shapes (docs/read-gate.md "Forensic report"), shared by the collector,
// the formats, the CLI and the admin API.

export interface TrailCheck {
  verified: boolean;
  records: number;
  checkpoints: number;
  /** What is wrong, when the trail did not verify (the first bad record). */
  problem?: string;
}

export interface Totals {
  /** Distinct m.room.message event ids returned to the user by gated reads. */
  messages: number;
  /** Distinct rooms read outside /sync (the gate's rooms_read). */
  rooms: number;
  /** Media downloads and thumbnails served. */
  media: number;
  mediaBytes: number;
  /** Distinct senders of those messages. */
  people: number;
}

export interface RoomLine {
  room_id: string;
  reads: number;
  /** Events returned (all reads of the room, /sync included). */
  events: number;
  /** Distinct m.room.message events returned from this room (resolved from recorded ranges). */
  messages: number;
  /** Events returned through /sync (recorded as counts, not resolvable to ids). */
  sync_events: number;
  first_ts: number;
  last_ts: number;
}

export interface SessionLine {
  session_id: unknown;
  device_id: unknown;
  ip: string;
  user_agent: string;
  reads: number;
  first_ts?: number;
  last_ts?: number;
}

export interface UserReport {
  kind: "user";
  user_id: string;
  since: number;
  until: number;
  trail: TrailCheck;
  totals: Totals;
  rooms: RoomLine[];
  people: { user_id: string; messages: number }[];
  media: { media_id: string; downloads: number; bytes: number; first_ts: number; last_ts: number }[];
  directory: { ts: number; endpoint: string; query: string; results: number }[];
  /** Sum of user-directory results: an upper bound on the users enumerated (entries are not recorded). */
  users_enumerated_max: number;
  sessions: SessionLine[];
  ips: { ip: string; reads: number }[];
  logins: { ts: number; event: string; decision: string; ip: string; device_id: unknown }[];
  containment: { ts: number; action: string; metric: string; scope: string; value: number; limit: number }[];
  refused_reads: { throttled: number; denied: number };
  /** Recorded ranges whose resolution did not match the recorded count (filters, hidden events):
   * their events were counted from the range, so the figures above are an upper bound for them. */
  inexact_ranges: number;
}

export interface ReaderLine {
  user_id: string;
  reads: number;
  events: number;
  first_ts: number;
  last_ts: number;
  ips: string[];
}

export interface ReverseReport {
  kind: "room" | "event";
  room_id: string;
  event_id?: string;
  since: number;
  until: number;
  trail: TrailCheck;
  readers: ReaderLine[];
}

export type Report = UserReport | ReverseReport;
