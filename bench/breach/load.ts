// Loads a breach plan into a running Rempart through its own services, never raw SQL: accounts in
// bulk (accounts.createUsers), createRoom for every room, and the room importer
// (src/rooms/importer.ts, the room writer's bulk path: every event built, signed and authorised
// by the room version's rules, persisted in batches) for forum joins and history; files through the
// media service in-process (its store and antivirus gate, as the upload endpoint does). History
// keeps its own timestamps (three years); the clock is moved back for what createRoom writes.
import { Readable } from "node:stream";
import type { App } from "../../src/app.js";
import type { ImportDraft } from "../../src/rooms/importer.js";
import { formatToken } from "../../src/sync/token.js";
import { body, rng, THREE_YEARS_MS, type Plan, type PlannedMessage } from "./plan.js";
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

const THREE_WEEKS_MS = 21 * 86_400_000;
/** Messages of one room per importer call (the importer commits 500 per transaction). */
const CHUNK = 2000;

export async function loadPlan(app: App, plan: Plan, clock: SimClock, _baseUrl: string, log: (s: string) => void): Promise<Truth> {
  const t0 = Date.now();
  const r = rng(plan.seed + 1);
  const server = app.config.server_name;
  const uid = (i: number) => `@${localpart(i)}:${server}`;
  const dev = (i: number) => ({ userId: uid(i), deviceId: "IMPORT" });
  let written = 0;
  const phase = (name: string, since: number, events: number) =>
    log(`${name}: ${events.toLocaleString("en")} in ${((Date.now() - since) / 1000).toFixed(1)} s (${(events / Math.max(0.001, (Date.now() - since) / 1000)).toFixed(0)}/s)`);

  // Accounts in bulk: only the victims and the scripted legitimate users have a password.
  let t = Date.now();
  clock.setAgo(THREE_YEARS_MS + 86_400_000);
  const withPassword = new Set([...plan.victims, ...plan.legit]);
  for (let i = 0; i < plan.users; i += 5000) {
    const n = Math.min(5000, plan.users - i);
    await app.accounts.createUsers(Array.from({ length: n }, (_, k) => ({ localpart: localpart(i + k), password: withPassword.has(i + k) ? PASSWORD : null, displayname: `Agent ${i + k}` })));
  }
  phase("users", t, plan.users);

  // Forums: public, published, unencrypted, history shared (Tchap's forum defaults).
  t = Date.now();
  const forumIds: string[] = new Array<string>(plan.forums);
  await inBatches(plan.members, 8, async (m, f) => {
    const res = await app.rooms.create(dev(m[0]!), { preset: "public_chat", visibility: "public", name: `Forum ${f}`, topic: `Discussions du forum ${f}` });
    forumIds[f] = res.room_id;
  });
  phase("forums created", t, plan.forums);

  // Joins through the importer: m.room.member events authorised by the join rules, in bulk.
  t = Date.now();
  let joins = 0;
  const joinTs = clock.now();
  for (let f = 0; f < plan.forums; f++) {
    const drafts: ImportDraft[] = plan.members[f]!.slice(1).map((u) => ({ type: "m.room.member", state_key: uid(u), sender: uid(u), content: { membership: "join", displayname: `Agent ${u}` }, ts: joinTs }));
    if (drafts.length) await app.roomImporter.importEvents(forumIds[f]!, drafts);
    joins += drafts.length;
  }
  written += joins;
  phase(`joins into ${plan.forums} forums`, t, joins);

  const loaderId = await app.accounts.createUser("breach-loader", PASSWORD);

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

  // Forum history, per room in chronological order, in two phases: everything older than three
  // weeks, then the catch-up token, then the rest (the catch-up user resumes from that token).
  // Each room draws from its own random sequence, so the dataset does not depend on the order
  // in which rooms are imported.
  const byRoom: PlannedMessage[][] = forumIds.map(() => []);
  for (const m of plan.messages) byRoom[m.room]!.push(m);
  const rooms = forumIds.map((_, f) => ({ f, r: rng(plan.seed + 1000 + f), recent: [] as { id: string; sender: number }[], at: 0, files: 0 }));
  const realNow = Date.now();
  t = Date.now();
  const before = written;
  let reported = 0;
  const importPhase = async (olderThan: number) => {
    await inBatches(rooms, 2, async (room) => {
      const all = byRoom[room.f]!;
      while (room.at < all.length && all[room.at]!.ageMs >= olderThan) {
        const chunk: PlannedMessage[] = [];
        while (room.at < all.length && all[room.at]!.ageMs >= olderThan && chunk.length < CHUNK) chunk.push(all[room.at++]!);
        // Files first (their mxc URIs go into the events), through the media service in-process.
        const mxcs: string[] = [];
        await inBatches(
          chunk.filter((m) => m.kind === "media"),
          16,
          async (m, k) => {
            const bytes = Buffer.alloc(m.size);
            for (let b = 0; b < m.size; b++) bytes[b] = Math.floor(room.r() * 256);
            const mxc = await app.media.upload(loaderId, Readable.from([bytes]), { fileName: `piece-${room.f}-${room.files + k}.bin`, contentType: "application/octet-stream", contentLength: m.size });
            mxcs[k] = mxc;
          },
        );
        let lastId = "";
        const firstFile = room.files;
        room.files += mxcs.length;
        const drafts = function* (): Generator<ImportDraft> {
          let media = 0;
          for (const m of chunk) {
            const [type, content, sender, isMessage] = planned(m, room, mxcs, () => `piece-${room.f}-${firstFile + media++}.bin`);
            yield { type, sender: uid(sender), content, ts: realNow - m.ageMs };
            written++;
            if (isMessage) {
              truth.messagesPerForum[room.f]!++;
              truth.sendersPerForum[room.f]!.add(uid(sender));
            }
            if (m.kind === "media") truth.media.push({ mxc: content.url as string, bytes: m.size, forum: room.f });
            if (m.kind === "text" || m.kind === "media") {
              room.recent.push({ id: lastId, sender });
              if (room.recent.length > 20) room.recent.shift();
            }
          }
        };
        await app.roomImporter.importEvents(forumIds[room.f]!, drafts(), { onBuilt: (id) => (lastId = id) });
        if (Math.floor((written - before) / 100_000) > reported) {
          reported = Math.floor((written - before) / 100_000);
          phase("forum history so far", t, written - before);
        }
      }
    });
  };
  await importPhase(THREE_WEEKS_MS);
  truth.catchUpToken = formatToken(app.sync.currentToken());
  await importPhase(-1);
  phase(`forum history (${truth.media.length} files)`, t, written - before);

  // Private encrypted rooms and DMs among other users: ciphertext only, never reachable.
  t = Date.now();
  clock.setAgo(7 * 86_400_000);
  const others = Array.from({ length: plan.users }, (_, i) => i).filter((i) => !plan.victims.includes(i));
  const pairs = Array.from({ length: plan.privateRooms + plan.dms }, (_, p) => {
    const a = others[Math.floor(r() * others.length)]!;
    let b = others[Math.floor(r() * others.length)]!;
    if (b === a) b = others[(others.indexOf(a) + 1) % others.length]!;
    const markers = Array.from({ length: 5 }, (_, k) => `SECRET-${p}-${k}-${Math.floor(r() * 1e9)}`);
    return { a, b, dm: p >= plan.privateRooms, markers };
  });
  truth.privateRoomIds = new Array<string>(pairs.length);
  await inBatches(pairs, 8, async ({ a, b, dm, markers }, p) => {
    const room = await app.rooms.create(dev(a), {
      preset: dm ? "trusted_private_chat" : "private_chat",
      is_direct: dm,
      invite: [uid(b)],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    truth.privateRoomIds[p] = room.room_id;
    const ts = clock.now();
    // The invitee's join and five stand-in ciphertexts that carry a marker (a leak would show).
    const drafts: ImportDraft[] = [{ type: "m.room.member", state_key: uid(b), sender: uid(b), content: { membership: "join", displayname: `Agent ${b}` }, ts }];
    markers.forEach((marker, k) =>
      drafts.push({ type: "m.room.encrypted", sender: uid(k % 2 ? b : a), content: { algorithm: "m.megolm.v1.aes-sha2", ciphertext: Buffer.from(marker).toString("base64"), sender_key: "k", session_id: "s", device_id: "IMPORT" }, ts: ts + k + 1 }),
    );
    await app.roomImporter.importEvents(room.room_id, drafts);
    written += drafts.length;
  });
  truth.privateMarkers = pairs.flatMap((x) => x.markers);
  phase(`private rooms and DMs: ${pairs.length}, events`, t, pairs.length * 6);
  clock.setAgo(0);
  truth.loadSeconds = (Date.now() - t0) / 1000;
  truth.eventsWritten = written;
  log(`loaded ${written} events in ${truth.loadSeconds.toFixed(1)} s (${(written / truth.loadSeconds).toFixed(0)} events/s, ${truth.media.length} files)`);
  return truth;
}

/** The event a planned message becomes: [type, content, sender index, counts as a message]. */
function planned(
  m: PlannedMessage,
  room: { r: () => number; recent: { id: string; sender: number }[] },
  mxcs: string[],
  fileName: () => string,
): [string, Record<string, unknown>, number, boolean] {
  const r = room.r;
  const prev = room.recent;
  const target = prev.length ? prev[Math.floor(r() * prev.length)]! : undefined;
  if (m.kind === "media") {
    const name = fileName();
    const mxc = mxcs.shift()!;
    return ["m.room.message", { msgtype: "m.file", body: name, url: mxc, info: { size: m.size, mimetype: "application/octet-stream" } }, m.sender, true];
  }
  if (m.kind === "reaction" && target) return ["m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: target.id, key: "👍" } }, m.sender, false];
  if (m.kind === "reply" && target) return ["m.room.message", { msgtype: "m.text", body: body(r, m.size), "m.relates_to": { "m.in_reply_to": { event_id: target.id } } }, m.sender, true];
  if (m.kind === "edit" && target) {
    const text = body(r, m.size);
    // An edit's sender is the original sender (clients ignore edits by others).
    return ["m.room.message", { msgtype: "m.text", body: `* ${text}`, "m.new_content": { msgtype: "m.text", body: text }, "m.relates_to": { rel_type: "m.replace", event_id: target.id } }, target.sender, true];
  }
  if (m.kind === "thread" && target) {
    return ["m.room.message", { msgtype: "m.text", body: body(r, m.size), "m.relates_to": { rel_type: "m.thread", event_id: target.id, is_falling_back: true, "m.in_reply_to": { event_id: target.id } } }, m.sender, true];
  }
  return ["m.room.message", { msgtype: "m.text", body: body(r, m.size) }, m.sender, true];
}
