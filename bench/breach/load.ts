// Loads a breach plan into a running Rempart through its own services: accounts, createRoom,
// membership and the room writer for every event (never raw SQL), and the media upload endpoint
// for files. The clock is moved back in time while loading, so history spans three years.
import type { App } from "../../src/app.js";
import { formatToken } from "../../src/sync/token.js";
import { body, rng, THREE_YEARS_MS, type Plan } from "./plan.js";
import { MatrixHttp, enc } from "./http.js";

/** A clock the harness moves: real time plus an offset (negative while loading the past). */
export class SimClock {
  offsetMs = 0;
  readonly now = (): number => Date.now() + this.offsetMs;
  /** Moves the clock to `ms` before the real present. */
  setAgo(ms: number): void {
    this.offsetMs = -ms;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export const PASSWORD = "breach-harness-password-1";
export const localpart = (i: number) => `u${i}`;

/** What was written: the ground truth the report compares against. */
export interface Truth {
  forumIds: string[];
  /** Per forum: message-like events (every m.room.message, including media, edits, threads). */
  messagesPerForum: number[];
  /** Per forum: the senders of those events (user ids). */
  sendersPerForum: Set<string>[];
  media: { mxc: string; bytes: number; forum: number }[];
  privateRoomIds: string[];
  /** Plaintext markers put in private rooms' ciphertexts: must never reach the intruder. */
  privateMarkers: string[];
  /** A sync token taken three weeks before the end of the load (the catch-up user resumes from it). */
  catchUpToken?: string;
  catchUpUser: string;
  loadSeconds: number;
  eventsWritten: number;
}

async function inBatches<T>(items: T[], size: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map((x, j) => fn(x, i + j)));
}

export async function loadPlan(app: App, plan: Plan, clock: SimClock, baseUrl: string, log: (s: string) => void): Promise<Truth> {
  const t0 = Date.now();
  const r = rng(plan.seed + 1);
  const server = app.config.server_name;
  const uid = (i: number) => `@${localpart(i)}:${server}`;
  const dev = (i: number) => ({ userId: uid(i), deviceId: "IMPORT" });
  let written = 0;

  // Accounts: only the victim and the scripted legitimate users need a password.
  clock.setAgo(THREE_YEARS_MS + 86_400_000);
  const withPassword = new Set([...plan.victims, ...plan.legit]);
  await inBatches(
    Array.from({ length: plan.users }, (_, i) => i),
    64,
    async (i) => {
      await app.accounts.createUser(localpart(i), withPassword.has(i) ? PASSWORD : null, { displayname: `Agent ${i}` });
    },
  );
  log(`users: ${plan.users}`);

  // Forums: public, published, unencrypted, history shared (Tchap's forum defaults).
  const forumIds: string[] = [];
  for (let f = 0; f < plan.forums; f++) {
    const creator = plan.members[f]![0]!;
    const res = await app.rooms.create(dev(creator), { preset: "public_chat", visibility: "public", name: `Forum ${f}`, topic: `Discussions du forum ${f}` });
    forumIds.push(res.room_id);
  }
  const joins: [number, number][] = [];
  plan.members.forEach((m, f) => m.slice(1).forEach((u) => joins.push([f, u])));
  // Joins of different forums in parallel (the writer serialises per room).
  await inBatches(joins, 32, async ([f, u]) => {
    await app.membership.join(uid(u), forumIds[f]!);
  });
  written += joins.length;
  log(`forums: ${plan.forums}, joins: ${joins.length}`);

  // Files are uploaded by one loader account through the media API (if this build has it).
  const loader = new MatrixHttp(baseUrl);
  await app.accounts.createUser("breach-loader", PASSWORD);
  const login = await loader.login("breach-loader", PASSWORD);
  if (login.status !== 200) throw new Error(`loader login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const mediaOn = (await loader.call("GET", "/_matrix/client/v1/media/config")).status === 200;

  const truth: Truth = {
    forumIds,
    messagesPerForum: forumIds.map(() => 0),
    sendersPerForum: forumIds.map(() => new Set<string>()),
    media: [],
    privateRoomIds: [],
    privateMarkers: [],
    catchUpUser: uid(plan.legit[0]!),
    loadSeconds: 0,
    eventsWritten: 0,
  };

  // Messages in chronological order; a batch writes into different rooms at once.
  const recent: { id: string; sender: number }[][] = forumIds.map(() => []);
  const threeWeeks = 21 * 86_400_000;
  let txn = 0;
  const batch = 48;
  for (let i = 0; i < plan.messages.length; i += batch) {
    const slice = plan.messages.slice(i, i + batch);
    if (!truth.catchUpToken && slice[0]!.ageMs < threeWeeks) truth.catchUpToken = formatToken(app.sync.currentToken());
    clock.setAgo(slice[0]!.ageMs);
    // One event per room per batch keeps replies pointing at events that exist.
    const byRoom = new Map<number, typeof slice>();
    for (const m of slice) byRoom.set(m.room, [...(byRoom.get(m.room) ?? []), m]);
    await Promise.all(
      [...byRoom.entries()].map(async ([room, msgs]) => {
        for (const m of msgs) {
          const roomId = forumIds[room]!;
          const prev = recent[room]!;
          const target = prev.length ? prev[Math.floor(r() * prev.length)]! : undefined;
          let type = "m.room.message";
          let content: Record<string, unknown>;
          let isMessage = true;
          if (m.kind === "media") {
            if (!mediaOn) continue;
            const bytes = new Uint8Array(m.size).map(() => Math.floor(r() * 256));
            const up = await loader.call("POST", `/_matrix/media/v3/upload?filename=${enc(`piece-${i}.bin`)}`, bytes, true);
            if (up.status !== 200) throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`);
            const mxc = up.body.content_uri as string;
            truth.media.push({ mxc, bytes: m.size, forum: room });
            content = { msgtype: "m.file", body: `piece-${i}.bin`, url: mxc, info: { size: m.size, mimetype: "application/octet-stream" } };
          } else if (m.kind === "reaction" && target) {
            type = "m.reaction";
            isMessage = false;
            content = { "m.relates_to": { rel_type: "m.annotation", event_id: target.id, key: "👍" } };
          } else if (m.kind === "reply" && target) {
            content = { msgtype: "m.text", body: body(r, m.size), "m.relates_to": { "m.in_reply_to": { event_id: target.id } } };
          } else if (m.kind === "edit" && target) {
            const text = body(r, m.size);
            content = { msgtype: "m.text", body: `* ${text}`, "m.new_content": { msgtype: "m.text", body: text }, "m.relates_to": { rel_type: "m.replace", event_id: target.id } };
          } else if (m.kind === "thread" && target) {
            content = { msgtype: "m.text", body: body(r, m.size), "m.relates_to": { rel_type: "m.thread", event_id: target.id, is_falling_back: true, "m.in_reply_to": { event_id: target.id } } };
          } else {
            content = { msgtype: "m.text", body: body(r, m.size) };
          }
          // An edit's sender is the original sender (clients ignore edits by others).
          const sender = m.kind === "edit" && target ? target.sender : m.sender;
          const p = await app.rooms.send(dev(sender), roomId, type, content, `t${txn++}`);
          written++;
          if (isMessage) {
            truth.messagesPerForum[room]!++;
            truth.sendersPerForum[room]!.add(uid(sender));
          }
          if (m.kind === "text" || m.kind === "media") {
            prev.push({ id: p.eventId, sender });
            if (prev.length > 20) prev.shift();
          }
        }
      }),
    );
    if (i % (batch * 200) === 0) log(`messages: ${i}/${plan.messages.length}`);
  }
  truth.catchUpToken ??= formatToken(app.sync.currentToken());

  // Private encrypted rooms and DMs among other users: ciphertext only, never reachable.
  clock.setAgo(7 * 86_400_000);
  const others = Array.from({ length: plan.users }, (_, i) => i).filter((i) => !plan.victims.includes(i));
  for (let p = 0; p < plan.privateRooms + plan.dms; p++) {
    const a = others[Math.floor(r() * others.length)]!;
    let b = others[Math.floor(r() * others.length)]!;
    if (b === a) b = others[(others.indexOf(a) + 1) % others.length]!;
    const dm = p >= plan.privateRooms;
    const room = await app.rooms.create(dev(a), {
      preset: dm ? "trusted_private_chat" : "private_chat",
      is_direct: dm,
      invite: [uid(b)],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await app.membership.join(uid(b), room.room_id);
    truth.privateRoomIds.push(room.room_id);
    for (let k = 0; k < 5; k++) {
      const marker = `SECRET-${p}-${k}-${Math.floor(r() * 1e9)}`;
      truth.privateMarkers.push(marker);
      // Stand-in ciphertext that carries a marker, so a leak would be visible in the report.
      const ciphertext = Buffer.from(marker).toString("base64");
      await app.rooms.send(dev(k % 2 ? b : a), room.room_id, "m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext, sender_key: "k", session_id: "s", device_id: "IMPORT" }, `p${txn++}`);
      written++;
    }
  }
  clock.setAgo(0);
  loader.close();
  truth.loadSeconds = (Date.now() - t0) / 1000;
  truth.eventsWritten = written;
  log(`loaded ${written} events in ${truth.loadSeconds.toFixed(1)} s (${mediaOn ? truth.media.length + " files" : "media API absent"})`);
  return truth;
}
