// Applying a sync Filter (client-server API "Filtering") to the pieces of a sync response.
import type { Filter } from "../accounts/filters.js";
import { eventMatches, type RoomEventFilter } from "../rooms/event-filter.js";
import type { ClientEvent } from "../rooms/serialize.js";

export const DEFAULT_TIMELINE_LIMIT = 10;
export const MAX_TIMELINE_LIMIT = 100;

export class SyncFilter {
  constructor(readonly f: Filter = {}) {}

  get timeline(): RoomEventFilter | undefined {
    return this.f.room?.timeline;
  }
  get state(): RoomEventFilter | undefined {
    return this.f.room?.state;
  }
  get timelineLimit(): number {
    return Math.min(Math.max(this.timeline?.limit ?? DEFAULT_TIMELINE_LIMIT, 1), MAX_TIMELINE_LIMIT);
  }
  get lazyMembers(): boolean {
    return this.state?.lazy_load_members === true;
  }
  get redundantMembers(): boolean {
    return this.state?.include_redundant_members === true;
  }
  get includeLeave(): boolean {
    return this.f.room?.include_leave === true;
  }

  roomIncluded(roomId: string): boolean {
    const r = this.f.room;
    if (r?.not_rooms?.includes(roomId)) return false;
    if (r?.rooms && !r.rooms.includes(roomId)) return false;
    return true;
  }

  stateEvent(e: { type: string; sender: string; room_id?: string }): boolean {
    return eventMatches(this.state, e);
  }

  // Ephemeral and account data events have no sender: only their type and room filter them.
  ephemeral(type: string, roomId: string): boolean {
    return eventMatches(senderless(this.f.room?.ephemeral), { type, sender: "", room_id: roomId });
  }

  globalAccountData(type: string): boolean {
    return eventMatches(senderless(this.f.account_data), { type, sender: "" });
  }

  roomAccountData(type: string, roomId: string): boolean {
    return eventMatches(senderless(this.f.room?.account_data), { type, sender: "", room_id: roomId });
  }

  /** `event_fields`: keep only the listed dotted paths (with `\.` escaping a dot). */
  project(ev: ClientEvent): Record<string, unknown> {
    const fields = this.f.event_fields;
    if (!fields) return ev as unknown as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const path = field.split(/(?<!\\)\./).map((p) => p.replace(/\\\./g, "."));
      let src: unknown = ev;
      for (const p of path) src = typeof src === "object" && src !== null ? (src as Record<string, unknown>)[p] : undefined;
      if (src === undefined) continue;
      let dst = out;
      for (const p of path.slice(0, -1)) dst = (dst[p] ??= {}) as Record<string, unknown>;
      dst[path[path.length - 1]!] = src;
    }
    return out;
  }
}

function senderless(f: RoomEventFilter | undefined): RoomEventFilter | undefined {
  return f ? { ...f, senders: undefined, not_senders: undefined } : undefined;
}
