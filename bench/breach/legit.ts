// Legitimate users on the same server while the intruder works: people chatting and reading at
// human rates, a new device's initial sync, someone catching up after three weeks away, a moderator
// scrolling a busy forum, a search-heavy user, and an allowlisted archiving bot reading everything.
// Every throttle, step-up or lock they receive is a false positive and is reported.
// Rates are human (checked against the read gate's defaults, docs/read-gate.md "Tuning"): a chatter
// syncs every 1.5–3.5 s and looks at 20 recent events every ~15 s; the moderator reads 500 events
// in ten seconds once; the searcher makes 20 searches, one every 2 s; catch-up reads three pages
// per busy room, all newer than their join (not history). Only the allowlisted bot reads in bulk.
import { MatrixHttp, enc, type Reply } from "./http.js";
import type { Plan } from "./plan.js";
import type { Truth } from "./load.js";

export interface FalsePositive {
  user: string;
  scenario: string;
  kind: "throttle" | "step-up" | "lock" | "refused";
  status: number;
  errcode?: string;
  path: string;
}

export interface LegitResult {
  users: number;
  requests: number;
  actions: FalsePositive[];
  scenarios: Record<string, string>;
}

export interface LegitOptions {
  baseUrl: string;
  plan: Plan;
  truth: Truth;
  uid: (i: number) => string;
  localpart: (i: number) => string;
  password: string;
  /** The bot on the read gate's allowlist. */
  bot: number;
  stop: () => boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WORDS = ["réunion", "budget", "rapport", "circulaire", "calendrier", "dossier"];

export async function runLegit(o: LegitOptions): Promise<LegitResult> {
  const result: LegitResult = { users: 0, requests: 0, actions: [], scenarios: {} };
  const forumsOf = (i: number) => o.plan.members.flatMap((m, f) => (m.includes(i) ? [o.truth.forumIds[f]!] : []));

  async function device(i: number, scenario: string, ip: string): Promise<{ c: MatrixHttp; ask: (m: string, p: string, b?: unknown) => Promise<Reply> }> {
    const c = new MatrixHttp(o.baseUrl, ip);
    const user = o.uid(i);
    const ask = async (method: string, path: string, body?: unknown): Promise<Reply> => {
      const r = await c.call(method, path, body);
      result.requests++;
      const code = r.body.errcode as string | undefined;
      if (r.status === 429) result.actions.push({ user, scenario, kind: "throttle", status: r.status, errcode: code, path });
      else if (r.status === 401 && code === "M_USER_LOCKED") result.actions.push({ user, scenario, kind: "lock", status: r.status, errcode: code, path });
      else if (r.status === 401 && r.body.soft_logout === true) result.actions.push({ user, scenario, kind: "step-up", status: r.status, errcode: code, path });
      else if (r.status === 403 && code !== "M_FORBIDDEN") result.actions.push({ user, scenario, kind: "refused", status: r.status, errcode: code, path });
      return r;
    };
    const l = await c.login(o.localpart(i), o.password);
    result.requests++;
    if (l.status !== 200) throw new Error(`legitimate login failed for ${user}: ${l.status} ${JSON.stringify(l.body)}`);
    result.users++;
    return { c, ask };
  }

  const legit = o.plan.legit.filter((i) => i !== o.bot);
  const [catchUp, newDevice, moderator, searcher, ...chatters] = legit;
  const runs: Promise<void>[] = [];

  // People chatting: sync every few seconds, a message now and then, a look at recent history.
  for (const [k, i] of chatters.slice(0, 30).entries()) {
    runs.push(
      (async () => {
        const { c, ask } = await device(i, "chat", `127.0.1.${(k % 200) + 1}`);
        const rooms = forumsOf(i);
        let since: string | undefined;
        for (let n = 0; !o.stop(); n++) {
          const s = await ask("GET", `/_matrix/client/v3/sync?timeout=0${since ? `&since=${enc(since)}` : ""}`);
          if (s.status === 200) since = s.body.next_batch as string;
          const room = rooms[n % rooms.length]!;
          if (n % 3 === 0) await ask("PUT", `/_matrix/client/v3/rooms/${enc(room)}/send/m.room.message/chat${n}`, { msgtype: "m.text", body: `message ${n}` });
          if (n % 5 === 0) await ask("GET", `/_matrix/client/v3/rooms/${enc(room)}/messages?dir=b&limit=20`);
          await sleep(1500 + ((i * 37 + n * 11) % 2000));
        }
        c.close();
      })(),
    );
  }

  // A new device: a full initial sync.
  if (newDevice !== undefined)
    runs.push(
      (async () => {
        const { c, ask } = await device(newDevice, "new device", "127.0.2.1");
        const s = await ask("GET", "/_matrix/client/v3/sync?timeout=0");
        result.scenarios["new device"] = s.status === 200 ? `initial sync of ${Object.keys((s.body.rooms as { join?: object })?.join ?? {}).length} rooms` : `failed ${s.status}`;
        c.close();
      })(),
    );

  // Back after three weeks: sync from an old token, then scroll each busy room a little.
  if (catchUp !== undefined)
    runs.push(
      (async () => {
        const { c, ask } = await device(catchUp, "catch-up", "127.0.2.2");
        const s = await ask("GET", `/_matrix/client/v3/sync?timeout=0&since=${enc(o.truth.catchUpToken!)}`);
        const join = ((s.body.rooms as { join?: Record<string, { timeline?: { limited?: boolean; prev_batch?: string } }> })?.join ?? {}) as Record<string, { timeline?: { limited?: boolean; prev_batch?: string } }>;
        let pages = 0;
        for (const [roomId, room] of Object.entries(join)) {
          let from = room.timeline?.prev_batch;
          for (let p = 0; p < 3 && from && room.timeline?.limited; p++) {
            const m = await ask("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50&from=${enc(from)}`);
            pages++;
            from = m.body.end as string | undefined;
            await sleep(300);
          }
        }
        result.scenarios["catch-up"] = `sync since three weeks (${s.status}), ${Object.keys(join).length} rooms, ${pages} pages scrolled`;
        c.close();
      })(),
    );

  // A moderator scrolling a busy forum: ten pages of fifty, a second apart.
  if (moderator !== undefined)
    runs.push(
      (async () => {
        const { c, ask } = await device(moderator, "moderator", "127.0.2.3");
        const room = forumsOf(moderator)[0]!;
        let from: string | undefined;
        let n = 0;
        for (; n < 10 && !o.stop(); n++) {
          const m = await ask("GET", `/_matrix/client/v3/rooms/${enc(room)}/messages?dir=b&limit=50${from ? `&from=${enc(from)}` : ""}`);
          from = m.body.end as string | undefined;
          if (!from) break;
          await sleep(1000);
        }
        result.scenarios.moderator = `${n} pages of 50 scrolled`;
        c.close();
      })(),
    );

  // Someone who searches a lot.
  if (searcher !== undefined)
    runs.push(
      (async () => {
        const { c, ask } = await device(searcher, "search", "127.0.2.4");
        let n = 0;
        for (; n < 20 && !o.stop(); n++) {
          await ask("POST", "/_matrix/client/v3/search", { search_categories: { room_events: { search_term: WORDS[n % WORDS.length] } } });
          await sleep(2000);
        }
        result.scenarios.search = `${n} searches`;
        c.close();
      })(),
    );

  // The allowlisted archiving bot: reads the whole history of its forums as fast as it can.
  runs.push(
    (async () => {
      const { c, ask } = await device(o.bot, "archiving bot", "127.0.2.5");
      let events = 0;
      for (const room of forumsOf(o.bot)) {
        let from: string | undefined;
        while (!o.stop()) {
          const m = await ask("GET", `/_matrix/client/v3/rooms/${enc(room)}/messages?dir=b&limit=100${from ? `&from=${enc(from)}` : ""}`);
          const chunk = (m.body.chunk as unknown[] | undefined) ?? [];
          events += chunk.length;
          from = m.body.end as string | undefined;
          if (m.status !== 200 || !from || chunk.length === 0) break;
        }
      }
      result.scenarios["archiving bot"] = `${events} events archived`;
      c.close();
    })(),
  );

  const settled = await Promise.allSettled(runs);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return result;
}
