// Publishes what was written so that long-polling syncs wake up. Behind an interface so that
// PostgreSQL LISTEN/NOTIFY (or NATS) can back it when several processes share one database.
import { EventEmitter } from "node:events";

export interface RoomEventNotice {
  roomId: string;
  eventId: string;
  streamOrdering: number;
  type: string;
  stateKey: string | null;
  sender: string;
  /** For membership events: the user whose membership changed. */
  membershipOf?: string;
}

export interface Notifier {
  publishRoomEvent(n: RoomEventNotice): void;
  /** Other streams (account data, receipts, typing, to-device, device lists) name the users to wake. */
  publishToUsers(stream: string, userIds: string[]): void;
  /** Ephemeral data of a room (typing, receipts) changed: wake the room's syncing members. */
  publishToRoom(stream: string, roomId: string): void;
  onRoomEvent(listener: (n: RoomEventNotice) => void): () => void;
  onUsers(listener: (stream: string, userIds: string[]) => void): () => void;
  onRoom(listener: (stream: string, roomId: string) => void): () => void;
}

export class LocalNotifier implements Notifier {
  private emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publishRoomEvent(n: RoomEventNotice): void {
    this.emitter.emit("room", n);
  }

  publishToUsers(stream: string, userIds: string[]): void {
    this.emitter.emit("users", stream, userIds);
  }

  publishToRoom(stream: string, roomId: string): void {
    this.emitter.emit("room-stream", stream, roomId);
  }

  onRoom(listener: (stream: string, roomId: string) => void): () => void {
    this.emitter.on("room-stream", listener);
    return () => this.emitter.off("room-stream", listener);
  }

  onRoomEvent(listener: (n: RoomEventNotice) => void): () => void {
    this.emitter.on("room", listener);
    return () => this.emitter.off("room", listener);
  }

  onUsers(listener: (stream: string, userIds: string[]) => void): () => void {
    this.emitter.on("users", listener);
    return () => this.emitter.off("users", listener);
  }
}
