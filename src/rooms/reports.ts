// Reporting content (client-server API "Reporting Content"): reports of events and of whole
// rooms, stored for the operators. Event reports are accepted only from a user currently joined to
// the room who can see the event (v1.8: "servers MUST verify that the reporting user is currently
// joined"); room reports only need the room to exist (v1.13: servers "MUST NOT restrict room
// reports based on whether or not the reporting user is joined").
import type { Storage } from "../storage/database.js";
import { reportsRepo, type ReportRow } from "../storage/reports.js";
import { eventsRepo } from "../storage/events.js";
import { isValidEventId, isValidRoomId } from "../matrix/identifiers.js";
import { invalidParam, notFound } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";
import type { HistoryVisibility } from "./visibility.js";

export interface ReportRequest {
  reason?: string;
  /** Removed from the spec in v1.18, still sent by older clients: -100 (most offensive) to 0. */
  score?: number;
}

export class Reports {
  private readonly repo;
  private readonly events;

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
    private readonly visibility: HistoryVisibility,
    private readonly now: () => number,
  ) {
    this.repo = reportsRepo(storage.db);
    this.events = eventsRepo(storage.db);
  }

  /**
   * POST /rooms/{roomId}/report/{eventId}. One 404 for "no such event", "not joined" and "cannot
   * see it" (the spec's single error), so the endpoint tells nothing about rooms one is not in.
   */
  async reportEvent(userId: string, roomId: string, eventId: string, req: ReportRequest): Promise<void> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    if (!isValidEventId(eventId)) throw invalidParam("Invalid event ID");
    const gone = notFound("The event was not found or you are not joined to the room");
    if (!(await this.writer.roomExists(roomId))) throw gone;
    const view = await this.visibility.view(roomId, userId);
    if (view.currentMembership !== "join") throw gone;
    const row = await this.events.get(eventId);
    // "Homeserver implementations can additionally return this error if the reported event has been redacted."
    if (!row || row.room_id !== roomId || !view.canSee(row) || row.redacted_by !== null) throw gone;
    await this.insert(userId, roomId, eventId, req);
  }

  /** POST /rooms/{roomId}/report (v1.13). */
  async reportRoom(userId: string, roomId: string, req: ReportRequest): Promise<void> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    if (!(await this.writer.roomExists(roomId))) throw notFound("The room was not found");
    await this.insert(userId, roomId, null, req);
  }

  /** The newest reports, for operators (and tests). */
  recent(limit: number, roomId?: string): Promise<ReportRow[]> {
    return this.repo.recent({ limit, roomId });
  }

  private async insert(userId: string, roomId: string, eventId: string | null, req: ReportRequest): Promise<void> {
    await this.repo.insert({ room_id: roomId, event_id: eventId, user_id: userId, reason: req.reason ?? null, score: req.score ?? null, received_ts: this.now() });
  }
}
