// History visibility (client-server API "Room History Visibility"), applied identically on every
// read path: /messages, /context, /event, /relations, /threads, /search and sync all ask a
// VisibilityView whether one event may be shown to one user.
import type { Storage } from "../storage/database.js";
import { eventsRepo } from "../storage/events.js";
import type { PDU } from "../matrix/pdu.js";
import { forbidden } from "../http/errors.js";
import { newcomerHistoryRepo } from "../storage/newcomer-history.js";
import { NEWCOMER_HISTORY_EVENT, newcomerDefault, policyFromContent, type NewcomerPolicy } from "./newcomer-history.js";

export type HistoryVisibilityValue = "world_readable" | "shared" | "invited" | "joined";

interface Step<T> {
  pos: number;
  value: T;
}

/** The value in force just before `pos` (steps sorted by position). */
function before<T>(steps: Step<T>[], pos: number, fallback: T): T {
  let v = fallback;
  for (const s of steps) {
    if (s.pos >= pos) break;
    v = s.value;
  }
  return v;
}

export interface EventPosition {
  stream_ordering: number;
  type: string;
  state_key: string | null;
  membership?: string | null;
}

export class VisibilityView {
  constructor(
    readonly userId: string,
    private readonly memberships: Step<string>[],
    private readonly visibilities: Step<HistoryVisibilityValue>[],
    /** Newcomer history bound: events before this position are hidden (0 = no bound). */
    private readonly floor = 0,
  ) {}

  /** The lowest position the user may read (the newcomer-history bound of public rooms, else 0). */
  readFloor(): number {
    return this.floor;
  }

  get currentMembership(): string | undefined {
    return this.memberships.length ? this.memberships[this.memberships.length - 1]!.value : undefined;
  }

  get currentVisibility(): HistoryVisibilityValue {
    return this.visibilities.length ? this.visibilities[this.visibilities.length - 1]!.value : "shared";
  }

  /** Position of the user's last membership event (their leave or ban when they are no longer in). */
  get lastMembershipPosition(): number | undefined {
    return this.memberships.length ? this.memberships[this.memberships.length - 1]!.pos : undefined;
  }

  /** May the user read this room's history at all? (Joined, formerly joined, or world_readable.) */
  canReadRoom(): boolean {
    if (this.currentVisibility === "world_readable") return true;
    return this.memberships.some((m) => m.value === "join");
  }

  assertCanReadRoom(): void {
    if (!this.canReadRoom()) throw forbidden("You aren't a member of the room");
  }

  /** The highest position the user may read: unbounded while joined, their leave otherwise. */
  readLimit(): number {
    if (this.currentMembership === "join" || this.currentVisibility === "world_readable") return Number.MAX_SAFE_INTEGER;
    return this.lastMembershipPosition ?? 0;
  }

  canSee(e: EventPosition): boolean {
    const pos = Number(e.stream_ordering);
    // One's own membership events are seen with the membership they establish.
    const own = e.type === "m.room.member" && e.state_key === this.userId;
    // The newcomer bound comes first: it narrows every visibility setting, world_readable included.
    if (pos < this.floor && !own) return false;
    const visibility = before(this.visibilities, pos, "shared" as HistoryVisibilityValue);
    if (visibility === "world_readable") return true;
    const membership = own && e.membership ? e.membership : before(this.memberships, pos, "leave");
    if (membership === "join") return true;
    if (own) return true;
    if (visibility === "shared" && this.currentMembership === "join") return true;
    if (visibility === "invited" && membership === "invite") return true;
    return false;
  }
}

/** The `""`-keyed state types a view depends on, with the user's membership events. */
export const VISIBILITY_STATE_TYPES = ["m.room.history_visibility", "m.room.join_rules", NEWCOMER_HISTORY_EVENT];

export class HistoryVisibility {
  private readonly events;
  private readonly newcomer;

  constructor(private readonly storage: Storage) {
    this.events = eventsRepo(storage.db);
    this.newcomer = newcomerHistoryRepo(storage.db);
  }

  async view(roomId: string, userId: string): Promise<VisibilityView> {
    return (await this.viewsOf([roomId], userId)).get(roomId)!;
  }

  /** The views of one user in some rooms, read with one query (a first sync of a user in 300 rooms
   * made 300 otherwise). */
  async viewsOf(roomIds: string[], userId: string): Promise<Map<string, VisibilityView>> {
    const byRoom = new Map<string, Array<{ type: string; stream_ordering: number; membership: string | null; json: string | null }>>(roomIds.map((r) => [r, []]));
    for (const row of await this.events.membershipAndStateHistory(roomIds, userId, VISIBILITY_STATE_TYPES)) byRoom.get(row.room_id)?.push(row);
    const out = new Map<string, VisibilityView>();
    for (const [roomId, rows] of byRoom) out.set(roomId, await this.fromRows(roomId, userId, rows));
    return out;
  }

  /**
   * The view from its inputs read by the caller (`/messages` reads them with its page, see
   * events.ts rangeWithChildren): the user's membership events and the changes of
   * VISIBILITY_STATE_TYPES, oldest first.
   */
  async fromRows(roomId: string, userId: string, rows: ReadonlyArray<{ type: string; stream_ordering: number; membership: string | null; json: string | null }>): Promise<VisibilityView> {
    const memberships = rows.filter((r) => r.type === "m.room.member").map((m) => ({ pos: Number(m.stream_ordering), value: m.membership ?? "leave" }));
    const steps = <T>(type: string, parse: (pdu: PDU) => T): Step<T>[] =>
      rows.filter((s) => s.type === type).map((s) => ({ pos: Number(s.stream_ordering), value: parse(JSON.parse(s.json!) as PDU) }));
    const visibilities = steps("m.room.history_visibility", parseVisibility);
    const floor = await this.newcomerFloor(roomId, memberships, steps("m.room.join_rules", (p) => p.content?.join_rule), steps(NEWCOMER_HISTORY_EVENT, (p) => policyFromContent(p.content)));
    return new VisibilityView(userId, memberships, visibilities, floor);
  }

  /**
   * The newcomer-history bound for one user. It is anchored at the user's FIRST join and decided by
   * the join rule and override in force then, so it never moves afterwards: a member keeps what they
   * could see when they joined, whatever the policy becomes. Someone who never joined (a peeker of a
   * world-readable room) is anchored at the room's newest event.
   */
  private async newcomerFloor(roomId: string, memberships: Step<string>[], joinRules: Step<unknown>[], overrides: Step<NewcomerPolicy | undefined>[]): Promise<number> {
    const firstJoin = memberships.find((m) => m.value === "join")?.pos;
    const anchor = firstJoin ?? Number.MAX_SAFE_INTEGER;
    // Only public rooms (forums); the spec's default join rule when none is set is "invite".
    if (before(joinRules, anchor, "invite" as unknown) !== "public") return 0;
    const policy = before(overrides, anchor, undefined) ?? newcomerDefault(this.storage);
    switch (policy.mode) {
      case "all":
        return 0;
      case "since_join":
        return anchor;
      case "events":
        return (await this.newcomer.nthBefore(roomId, anchor, policy.events)) ?? 0;
      case "days": {
        const joinTs = firstJoin === undefined ? Date.now() : ((await this.newcomer.tsAt(roomId, firstJoin)) ?? Date.now());
        return (await this.newcomer.firstSince(roomId, joinTs - policy.days * 86_400_000, anchor)) ?? anchor;
      }
    }
  }
}

function parseVisibility(pdu: PDU): HistoryVisibilityValue {
  const v = pdu.content?.history_visibility;
  // Unknown or redacted values fall back to "shared", the spec's default.
  return v === "world_readable" || v === "invited" || v === "joined" || v === "shared" ? v : "shared";
}
