// Long-poll waiting, fanned out: one set of notifier listeners for every parked /sync, indexed by
// user and by room, so that an event wakes exactly the parked devices of its room (work in
// proportion to those woken, not a scan of every parked request), and a long-poll that ends
// leaves in proportion to its own rooms (an EventEmitter listener per request made both linear in
// the number parked: quadratic with 1,000 devices in one room).
import type { Notifier } from "../rooms/notifier.js";

export class Waiters {
  private readonly byUser = new Map<string, Set<Waiter>>();
  private readonly byRoom = new Map<string, Set<Waiter>>();
  /** Waiters whose room list is not known yet: they remember every room with news meanwhile. */
  private readonly unplaced = new Set<Waiter>();

  constructor(notifier: Notifier) {
    notifier.onRoomEvent((n) => {
      this.roomNews(n.roomId);
      if (n.membershipOf !== undefined) this.userNews(n.membershipOf);
    });
    notifier.onUsers((_stream, users) => {
      for (const u of users) this.userNews(u);
    });
    notifier.onRoom((_stream, roomId) => this.roomNews(roomId));
  }

  /** Subscribes before the response is built, so nothing published in between is missed. */
  subscribe(userId: string): Waiter {
    const w = new Waiter(this, userId);
    add(this.byUser, userId, w);
    this.unplaced.add(w);
    return w;
  }

  /** @internal */
  place(w: Waiter, old: readonly string[], rooms: readonly string[]): void {
    for (const r of old) remove(this.byRoom, r, w);
    for (const r of rooms) add(this.byRoom, r, w);
    this.unplaced.delete(w);
  }

  /** @internal */
  leave(w: Waiter, rooms: readonly string[]): void {
    for (const r of rooms) remove(this.byRoom, r, w);
    remove(this.byUser, w.userId, w);
    this.unplaced.delete(w);
  }

  private roomNews(roomId: string): void {
    for (const w of this.byRoom.get(roomId) ?? []) w.hit();
    for (const w of this.unplaced) w.early.add(roomId);
  }

  private userNews(userId: string): void {
    for (const w of this.byUser.get(userId) ?? []) w.hit();
  }
}

/** One long-poll: resolves when something relevant to its user is published. */
export class Waiter {
  private rooms: string[] = [];
  /** Rooms with news that arrived before the room list was known. */
  readonly early = new Set<string>();
  private wake?: () => void;
  private fired = false;
  private closed = false;

  constructor(
    private readonly registry: Waiters,
    readonly userId: string,
  ) {}

  /** @internal */
  hit(): void {
    this.fired = true;
    this.wake?.();
  }

  watchRooms(ids: string[]): void {
    if (this.closed) return;
    this.registry.place(this, this.rooms, ids);
    this.rooms = ids;
    for (const r of ids) if (this.early.has(r)) this.fired = true;
    this.early.clear();
  }

  /** True if woken by news, false on timeout. */
  wait(ms: number): Promise<boolean> {
    if (this.fired) {
      this.fired = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.fired = false;
        resolve(true);
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.leave(this, this.rooms);
  }
}

function add(map: Map<string, Set<Waiter>>, key: string, w: Waiter): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(w);
}

function remove(map: Map<string, Set<Waiter>>, key: string, w: Waiter): void {
  const set = map.get(key);
  if (set?.delete(w) && set.size === 0) map.delete(key);
}
