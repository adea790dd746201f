// Runs every local member's push rules on each new event, inside the room writer's transaction
// (a PersistHook), so that the unread count of an event appears in the same /sync as the event
// (client-server API "Server behaviour"). The outcome shared by the members the event does not
// single out is stored once; members whose outcome differs get a row of their own (migration
// 0016, storage/push-actions.ts). The gateway sender picks the notified users up once the event
// is published.
import type { Db } from "../storage/database.js";
import { pushActionsRepo, type PushActionRow } from "../storage/push-actions.js";
import type { RoomSnapshot } from "../rooms/writer.js";
import type { PDU } from "../matrix/pdu.js";
import { membershipTransition, stateKey } from "../matrix/pdu.js";
import { outcomeOf, type PushContext } from "../matrix/push-rules.js";
import { EventEvaluation } from "./shared-defaults.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";
import { relationOf } from "../rooms/relations-index.js";
import { hasOnlyServerDefaults, type PushRules } from "./push-rules.js";

/** Notifications decided for one event, waiting for its publication. */
export interface PendingPush {
  roomId: string;
  pdu: PDU;
  /** The shared outcome's actions (JSON), when it notifies. */
  sharedActions?: string;
  /** The members notified with the shared outcome. */
  sharedUsers: string[];
  /** Members with an outcome of their own (notify = 0: not notified). */
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
    const actions = pushActionsRepo(tx);
    if (pdu.sender.endsWith(local)) await actions.markSent(pdu.sender, room.roomId, streamOrdering);
    const t = membershipTransition(room.state, pdu);
    if (t?.now && t.userId.endsWith(local)) await actions.membershipChanged(t.userId, room.roomId, t.prev, t.now, streamOrdering);
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
    const members = candidates.length;
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
    // Users with the same rule share its actions array: serialise each array once per event.
    const actionsJson = new Map<unknown, string>();
    const json = (key: unknown, value: unknown) => {
      let j = actionsJson.get(key);
      if (j === undefined) actionsJson.set(key, (j = JSON.stringify(value)));
      return j;
    };
    const context = (userId: string): PushContext => ({ userId, displayName: names.get(userId), memberCount: joined, senderPowerLevel: senderLevel, notificationLevels: pl.notifications });
    const evaluation = new EventEvaluation(event);
    const sharedHit = evaluation.shared(context(pdu.sender));
    const shared = sharedHit ? outcomeOf(sharedHit.rule.actions) : undefined;
    const sharedActions = shared?.notify ? json(sharedHit!.rule.actions, shared.actions) : undefined;
    if (sharedActions !== undefined) {
      await actions.insertShared({ room_id: room.roomId, stream_ordering: streamOrdering, event_id: pdu.event_id, thread_id: threadId, sender: pdu.sender, highlight: shared!.highlight ? 1 : 0, actions: sharedActions, ts });
    }
    const sharedUsers: string[] = [];
    const rows: PushActionRow[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const userId = candidates[i]!;
      // The shared outcome covers joined members (push_member_spans), not an invite's target.
      const member = i < members;
      let hit: ReturnType<EventEvaluation["forUser"]>;
      try {
        const rs = rulesets.get(userId)!;
        hit = evaluation.forUser(rs, hasOnlyServerDefaults(rs), context(userId));
      } catch {
        continue; // one user's unusable rule must not refuse the event to the whole room
      }
      if (member && hit === sharedHit) {
        if (sharedActions !== undefined) sharedUsers.push(userId);
        continue;
      }
      const o = hit ? outcomeOf(hit.rule.actions) : undefined;
      const own = o?.notify ? json(hit!.rule.actions, o.actions) : undefined;
      if (member && own === sharedActions && (own === undefined || o!.highlight === shared!.highlight)) {
        if (sharedActions !== undefined) sharedUsers.push(userId);
        continue;
      }
      // A row of its own: notified otherwise, or not notified where the shared outcome would.
      if (own === undefined && !(member && sharedActions !== undefined)) continue;
      rows.push({ user_id: userId, event_id: pdu.event_id, room_id: room.roomId, stream_ordering: streamOrdering, thread_id: threadId, highlight: o?.highlight ? 1 : 0, actions: own ?? "[]", ts, notify: own === undefined ? 0 : 1 });
    }
    // 9 parameters a row: 1,000 rows stay far below SQLite's and PostgreSQL's parameter limits.
    for (let i = 0; i < rows.length; i += 1000) await actions.insertMany(rows.slice(i, i + 1000));
    if (sharedUsers.length === 0 && !rows.some((r) => r.notify === 1)) return;
    const str = (t: string, key: string) => {
      const v = room.state.get(stateKey(t, ""))?.content[key];
      return typeof v === "string" ? v : undefined;
    };
    this.pending.set(pdu.event_id, {
      roomId: room.roomId,
      pdu,
      sharedActions,
      sharedUsers,
      rows,
      senderDisplayName: names.get(pdu.sender),
      roomName: str("m.room.name", "name"),
      roomAlias: str("m.room.canonical_alias", "alias"),
    });
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  };
}
