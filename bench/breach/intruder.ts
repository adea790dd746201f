// The intruder: one taken-over account, acting only through the client API, as in June 2026:
// enumerate people through the user directory, list the public rooms, join each, fetch its member
// list, paginate its whole history, download every file. Variants:
// - fast: as quick as the server answers, one device;
// - parallel: several devices of the same account from several IPs, splitting the rooms;
// - media-first: files before messages (a URL filter on /messages);
// - slow: spread over days on the simulated clock, one request every six minutes day and night, so
//   that it stays under every hourly threshold (at most ~1,000 history events an hour).
// It obeys Retry-After, signs in again after a soft logout (it has the password and, when the account
// has a second factor, the TOTP seed: the worst case of a social-engineering takeover, so that the
// lock, not the second factor, is what must stop it), and stops when the account is locked, when it
// cannot sign in again, when everything is read, or at its time budget.
import { MatrixHttp, enc, type Reply } from "./http.js";
import type { SimClock } from "./load.js";
import { ssoLogin, StolenTotp } from "./sso-login.js";

export type Variant = "fast" | "parallel" | "media-first" | "slow";

export interface Sample {
  /** Attacker time since its first request (ms; simulated time for the slow variant). */
  t: number;
  messages: number;
  media: number;
}

export interface IntruderResult {
  variant: Variant;
  /** false when the read gate was switched off for this run (the stock-homeserver comparison). */
  gate?: boolean;
  user: string;
  messages: number;
  messageIds: Set<string>;
  senders: Set<string>;
  rooms: Set<string>;
  media: number;
  mediaBytes: number;
  usersEnumerated: number;
  memberLists: number;
  requests: number;
  statuses: Record<string, number>;
  /** Attacker time (ms) of the first throttle, step-up or lock answer. */
  detectedAtMs?: number;
  /** Attacker time (ms) from which it obtained nothing more (locked, or could not log in again). */
  containedAtMs?: number;
  containedBy?: string;
  endedBy: "contained" | "finished" | "time budget";
  attackerMs: number;
  samples: Sample[];
  /** Markers of private rooms' contents found in anything received (must stay 0). */
  privateLeaks: number;
}

export interface IntruderOptions {
  baseUrl: string;
  user: string;
  password: string;
  variant: Variant;
  clock: SimClock;
  /** Loopback source addresses (one device per address). */
  ips: string[];
  /** Real-time budget (fast variants), or simulated budget (slow). */
  budgetMs: number;
  privateMarkers: string[];
  /** The victim's TOTP seed (known to the intruder) and when its enrolment code was used. */
  totp?: { secret: string; usedAt: number };
  log: (s: string) => void;
}

/** The slow intruder's pace: one request every six minutes (10 pages of 100 an hour). */
const SLOW_STEP_MS = 6 * 60_000;

class Stop extends Error {}

export async function runIntruder(o: IntruderOptions): Promise<IntruderResult> {
  const slow = o.variant === "slow";
  // Attacker time starts once its devices are signed in (their TOTP waits are not the gate's doing).
  let started = o.clock.now();
  const attackerTime = () => o.clock.now() - started;
  // Waiting for the next TOTP step moves the simulated clock rather than sleeping (at most 30 s).
  const totp = o.totp && new StolenTotp(o.totp.secret, o.clock.now, async (ms) => o.clock.advance(Math.max(0, ms)));
  totp?.markUsed(o.totp!.usedAt);
  const res: IntruderResult = {
    variant: o.variant,
    user: o.user,
    messages: 0,
    messageIds: new Set(),
    senders: new Set(),
    rooms: new Set(),
    media: 0,
    mediaBytes: 0,
    usersEnumerated: 0,
    memberLists: 0,
    requests: 0,
    statuses: {},
    endedBy: "finished",
    attackerMs: 0,
    samples: [],
    privateLeaks: 0,
  };
  const sample = () => res.samples.push({ t: attackerTime(), messages: res.messages, media: res.media });
  let lastProgressAt = 0;

  const devices = o.ips.map((ip) => new MatrixHttp(o.baseUrl, ip));
  let stopped = false;
  const contained = (by: string) => {
    stopped = true;
    res.containedAtMs ??= lastProgressAt;
    res.containedBy ??= by;
    res.endedBy = "contained";
    throw new Stop(by);
  };

  async function login(c: MatrixHttp, i: number): Promise<void> {
    const device = `INTRUDER${i}`;
    for (let attempt = 0; ; attempt++) {
      let r: Reply;
      if (totp) {
        c.token = undefined;
        const out = await ssoLogin(o.baseUrl, o.user, o.password, totp, device, async (b) => c.call("POST", "/_matrix/client/v3/login", b));
        r = { status: out.status, body: out.errcode ? { errcode: out.errcode } : {}, bytes: 0 };
        if (out.stage === "signed_in") c.token = out.accessToken;
        else if (out.stage !== "token") r.body.errcode ??= `refused at ${out.stage}`;
      } else r = await c.login(o.user, o.password, device);
      count(r);
      // The /login rate limit per address: wait and try again, as a client would.
      if (r.status === 429 && attempt < 10) {
        await new Promise((w) => setTimeout(w, 1000));
        continue;
      }
      if (r.status !== 200) contained(`login refused (${r.status} ${String(r.body.errcode)})`);
      return;
    }
  }
  function count(r: Reply): void {
    res.requests++;
    const key = `${r.status}${r.body.errcode ? " " + String(r.body.errcode) : ""}`;
    res.statuses[key] = (res.statuses[key] ?? 0) + 1;
    if (r.status === 429 || (r.status === 401 && (r.body.soft_logout === true || r.body.errcode === "M_USER_LOCKED")) || (r.status === 403 && res.detectedAtMs === undefined && r.body.errcode === "M_FORBIDDEN" && /lock|contain|suspend/i.test(String(r.body.error)))) {
      res.detectedAtMs ??= attackerTime();
    }
  }

  /** One request, with the intruder's persistence: wait out throttles, log in again after a soft logout. */
  async function ask(c: MatrixHttp, i: number, method: string, path: string, body?: unknown): Promise<Reply> {
    for (;;) {
      if (stopped) throw new Stop("stopped");
      if (attackerTime() > o.budgetMs) {
        stopped = true;
        res.endedBy = "time budget";
        throw new Stop("budget");
      }
      if (slow) o.clock.advance(SLOW_STEP_MS);
      const r = await c.call(method, path, body);
      count(r);
      if (r.status === 429) {
        const wait = r.retryAfterMs ?? 1000;
        if (slow) o.clock.advance(wait);
        else await new Promise((w) => setTimeout(w, Math.min(wait, 5000)));
        continue;
      }
      if (r.status === 401 && r.body.errcode === "M_USER_LOCKED") contained("account locked");
      if (r.status === 401) {
        await login(c, i);
        continue;
      }
      return r;
    }
  }

  function received(text: string): void {
    for (const m of o.privateMarkers) if (text.includes(m)) res.privateLeaks++;
  }

  async function readRoom(c: MatrixHttp, i: number, roomId: string, onlyMedia: boolean): Promise<void> {
    const j = await ask(c, i, "POST", `/_matrix/client/v3/join/${enc(roomId)}`, {});
    if (j.status !== 200) return;
    res.rooms.add(roomId);
    const m = await ask(c, i, "GET", `/_matrix/client/v3/rooms/${enc(roomId)}/members`);
    if (m.status === 200) res.memberLists++;
    let from: string | undefined;
    const filter = onlyMedia ? `&filter=${enc(JSON.stringify({ contains_url: true }))}` : "";
    for (;;) {
      const page = await ask(c, i, "GET", `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=100${filter}${from ? `&from=${enc(from)}` : ""}`);
      if (page.status !== 200) return;
      const chunk = (page.body.chunk as Record<string, unknown>[] | undefined) ?? [];
      received(JSON.stringify(chunk));
      const files: string[] = [];
      for (const ev of chunk) {
        if (ev.type === "m.room.message" && !res.messageIds.has(ev.event_id as string)) {
          res.messageIds.add(ev.event_id as string);
          res.senders.add(ev.sender as string);
          res.messages++;
          lastProgressAt = attackerTime();
          const url = (ev.content as Record<string, unknown> | undefined)?.url;
          if (typeof url === "string" && url.startsWith("mxc://")) files.push(url);
        }
      }
      for (const mxc of files) {
        const [server, id] = mxc.slice(6).split("/");
        const d = await ask(c, i, "GET", `/_matrix/client/v1/media/download/${enc(server!)}/${enc(id!)}`);
        if (d.status === 200) {
          res.media++;
          res.mediaBytes += d.bytes;
          lastProgressAt = attackerTime();
        }
      }
      sample();
      const end = page.body.end as string | undefined;
      if (!end || chunk.length === 0) return;
      from = end;
    }
  }

  try {
    // One device after another: each sign-in needs its own TOTP step.
    for (const [i, c] of devices.entries()) await login(c, i);
    started = o.clock.now();
    const c0 = devices[0]!;
    // Enumerate people through the user directory.
    const seen = new Set<string>();
    for (const term of "abcdefghijklmnopqrstuvwxyz0123456789".split("")) {
      const r = await ask(c0, 0, "POST", "/_matrix/client/v3/user_directory/search", { search_term: term, limit: 1000 });
      for (const u of (r.body.results as { user_id: string }[] | undefined) ?? []) seen.add(u.user_id);
      res.usersEnumerated = seen.size;
    }
    // List the public rooms.
    const rooms: string[] = [];
    let since: string | undefined;
    for (;;) {
      const r = await ask(c0, 0, "GET", `/_matrix/client/v3/publicRooms?limit=100${since ? `&since=${enc(since)}` : ""}`);
      if (r.status !== 200) break;
      for (const room of (r.body.chunk as { room_id: string }[] | undefined) ?? []) rooms.push(room.room_id);
      since = r.body.next_batch as string | undefined;
      if (!since) break;
    }
    o.log(`intruder ${o.variant}: ${seen.size} users enumerated, ${rooms.length} public rooms listed`);
    const mediaFirst = o.variant === "media-first";
    // Rooms are dealt to the devices in turn; each device reads its share.
    const runs = await Promise.allSettled(
      devices.map(async (c, i) => {
        const mine = rooms.filter((_, k) => k % devices.length === i);
        if (mediaFirst) for (const room of mine) await readRoom(c, i, room, true);
        for (const room of mine) await readRoom(c, i, room, false);
      }),
    );
    for (const r of runs) if (r.status === "rejected" && !(r.reason instanceof Stop)) throw r.reason;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  } finally {
    res.attackerMs = attackerTime();
    sample();
    for (const d of devices) d.close();
  }
  return res;
}
