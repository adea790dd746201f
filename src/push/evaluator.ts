// Runs every local member's push rules on each new event, inside the room writer's transaction
// (a PersistHook), so that the unread count of an event appears in the same /sync as the event
// (client-server API "Server behaviour"). Notifying actions are stored per (user, event); the
// gateway sender picks them up once the event is published.
import type { Db } from "../storage/database.js";
import { pushActionsRepo, type PushActionRow } from "../storage/push-actions.js";
import type { RoomSnapshot } from "../rooms/writer.js";
import type { PDU } from "../matrix/pdu.js";
import { stateKey } from "../matrix/pdu.js";
import { outcomeOf, type PushContext } from "../matrix/push-rules.js";
import { EventEvaluation } from "./shared-defaults.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";
import { relationOf } from "../rooms/relations-index.js";
import { hasOnlyServerDefaults, type PushRules } from "./push-rules.js";

/** Notifications decided for one event, waiting for its publication. */
export interface PendingPush {
  roomId: string;
  pdu: PDU;
  memberCount: number;
  rows: PushActionRow[];
  senderDisplayName?: string;
  roomName?: string;
  roomAlias?: string;
}

const MAX_PENDING = 2000;

export class PushEvaluator {
  /** Keyed by event id; a write that rolls back leaves an entry that is evicted by size. */
  private pending = new Map<string, PendingPush>();

  constructor(
    private readonly rules: PushRules,
    private readonly serverName: string,
    private readonly now: () => number,
  ) {}

  /** Takes the notifications decided for a published event (once). */
  take(eventId: string): PendingPush | undefined {
    const p = this.pending.get(eventId);
    if (p) this.pending.delete(eventId);
    return p;
  }

  /** The PersistHook: `room` is the state before `pdu`. */
  readonly hook = async (tx: Db, room: RoomSnapshot, pdu: PDU, streamOrdering: number): Promise<void> => {
    if (pdu.type === "m.room.create") return;
    const local = `:${this.serverName}`;
    if (pdu.sender.endsWith(local)) await pushActionsRepo(tx).markSent(pdu.sender, room.roomId, streamOrdering);
    const candidates: string[] = [];
    const names = new Map<string, string>();
    let joined = 0;
    for (const [k, ev] of room.state) {
      if (!k.startsWith("m.room.member\u0000") || ev.content.membership !== "join") continue;
      joined++;
      const u = ev.state_key!;
      if (typeof ev.content.displayname === "string") names.set(u, ev.content.displayname);
      if (u !== pdu.sender && u.endsWith(local)) candidates.push(u);
    }
    // An invite notifies its target, who is not yet a member (.m.rule.invite_for_me).
    if (pdu.type === "m.room.member" && pdu.content.membership === "invite" && pdu.state_key && pdu.state_key.endsWith(local) && !candidates.includes(pdu.state_key)) {
      candidates.push(pdu.state_key);
    }
    if (candidates.length === 0) return;
    const pl = powerLevelsFrom(room.state.get(stateKey("m.room.power_levels", ""))?.content, room.createEvent, room.version);
    const senderLevel = userPowerLevel(pl, pdu.sender, room.createEvent, room.version);
    const rulesets = await this.rules.rulesetsFor(candidates, tx);
    const event = pdu as unknown as Record<string, unknown>;
    const threadId = relationOf(pdu)?.threadRoot ?? "main";
    const ts = this.now();
    const rows: PushActionRow[] = [];
    // Users with the same rule share its actions array: serialise each array once per event.
    const actionsJson = new Map<unknown, string>();
    const json = (key: unknown, value: unknown) => {
      let j = actionsJson.get(key);
      if (j === undefined) actionsJson.set(key, (j = JSON.stringify(value)));
      return j;
    };
    const evaluation = new EventEvaluation(event);
    for (const userId of candidates) {
      const ctx: PushContext = { userId, displayName: names.get(userId), memberCount: joined, senderPowerLevel: senderLevel, notificationLevels: pl.notifications };
      let hit: ReturnType<EventEvaluation["forUser"]>;
      try {
        const rs = rulesets.get(userId)!;
        hit = evaluation.forUser(rs, hasOnlyServerDefaults(rs), ctx);
      } catch {
        continue; // one user's unusable rule must not refuse the event to the whole room
      }
      if (!hit) continue;
      const o = outcomeOf(hit.rule.actions);
      if (!o.notify) continue;
      rows.push({ user_id: userId, event_id: pdu.event_id, room_id: room.roomId, stream_ordering: streamOrdering, thread_id: threadId, highlight: o.highlight ? 1 : 0, actions: json(hit.rule.actions, o.actions), ts });
    }
    if (rows.length === 0) return;
    // 8 parameters a row: 1,000 rows stay far below SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 1000) await pushActionsRepo(tx).insertMany(rows.slice(i, i + 1000));
    const str = (t: string, key: string) => {
      const v = room.state.get(stateKey(t, ""))?.content[key];
      return typeof v === "string" ? v : undefined;
    };
    this.pending.set(pdu.event_id, {
      roomId: room.roomId,
      pdu,
      memberCount: joined,
      rows,
      senderDisplayName: names.get(pdu.sender),
      roomName: str("m.room.name", "name"),
      roomAlias: str("m.room.canonical_alias", "alias"),
    });
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  };
}
