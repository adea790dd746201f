// History visibility (client-server API "Room History Visibility"), applied identically on every
// read path: /messages, /context, /event, /relations, /threads, /search and sync all ask a
// VisibilityView whether one event may be shown to one user.
import type { Storage } from "../storage/database.js";
import { eventsRepo } from "../storage/events.js";
import type { PDU } from "../matrix/pdu.js";
import { forbidden } from "../http/errors.js";

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
  ) {}

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
    const visibility = before(this.visibilities, pos, "shared" as HistoryVisibilityValue);
    if (visibility === "world_readable") return true;
    // One's own membership events are seen with the membership they establish.
    const own = e.type === "m.room.member" && e.state_key === this.userId;
    const membership = own && e.membership ? e.membership : before(this.memberships, pos, "leave");
    if (membership === "join") return true;
    if (own) return true;
    if (visibility === "shared" && this.currentMembership === "join") return true;
    if (visibility === "invited" && membership === "invite") return true;
    return false;
  }
}

export class HistoryVisibility {
  private readonly events;

  constructor(storage: Storage) {
    this.events = eventsRepo(storage.db);
  }

  async view(roomId: string, userId: string): Promise<VisibilityView> {
    const [mem, vis] = await Promise.all([this.events.membershipHistory(roomId, userId), this.events.stateHistory(roomId, "m.room.history_visibility")]);
    return new VisibilityView(
      userId,
      mem.map((m) => ({ pos: Number(m.stream_ordering), value: m.membership ?? "leave" })),
      vis.map((v) => ({ pos: Number(v.stream_ordering), value: parseVisibility(JSON.parse(v.json) as PDU) })),
    );
  }
}

function parseVisibility(pdu: PDU): HistoryVisibilityValue {
  const v = pdu.content?.history_visibility;
  // Unknown or redacted values fall back to "shared", the spec's default.
  return v === "world_readable" || v === "invited" || v === "joined" || v === "shared" ? v : "shared";
}
