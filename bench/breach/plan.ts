// The breach dataset, planned before anything is written: deterministic for a given scale and seed,
// shaped like the June 2026 incident (users on the server, public forums with three years of
// history, media files, and private encrypted rooms and DMs that must stay unreadable).
//
// Scale 1.0 is the incident's own figures; every count is multiplied by the scale (at least 1).

export const INCIDENT = {
  users: 73_467,
  forums: 876,
  messages: 643_459,
  media: 59_386,
  privateRooms: 400,
  dms: 600,
} as const;

export const THREE_YEARS_MS = 3 * 365 * 24 * 3600 * 1000;

/** mulberry32: small, fast, and the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type MessageKind = "text" | "reply" | "edit" | "reaction" | "thread" | "media";

export interface PlannedMessage {
  /** Index of the forum. */
  room: number;
  /** Index of the sender among all users. */
  sender: number;
  kind: MessageKind;
  /** Milliseconds before the end of the load (history spread over three years). */
  ageMs: number;
  /** Body length in characters (text), or file size in bytes (media). */
  size: number;
}

export interface Plan {
  scale: number;
  seed: number;
  users: number;
  forums: number;
  /** Members of each forum (user indexes); their union is every user. */
  members: number[][];
  /** Forum messages in chronological order (oldest first). */
  messages: PlannedMessage[];
  privateRooms: number;
  dms: number;
  /** Taken-over accounts, one per intruder run (members of the biggest forum, like the 2026 one). */
  victims: number[];
  /** Legitimate users given a scripted workload (indexes). */
  legit: number[];
}

const scaled = (n: number, scale: number) => Math.max(1, Math.round(n * scale));

export function makePlan(scale: number, seed = 2026): Plan {
  const r = rng(seed);
  const users = Math.max(scaled(INCIDENT.users, scale), 20);
  const forums = Math.max(scaled(INCIDENT.forums, scale), 2);
  const messageCount = scaled(INCIDENT.messages, scale);
  const mediaCount = scaled(INCIDENT.media, scale);

  // Forum sizes follow a heavy tail (a few big forums, many small ones); every user belongs to
  // at least one forum so that the union of members is the whole population, as in the incident.
  const weights = Array.from({ length: forums }, (_, i) => 1 / Math.pow(i + 1, 0.8));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const members: number[][] = Array.from({ length: forums }, () => []);
  const pick = (): number => {
    let x = r() * wsum;
    for (let i = 0; i < forums; i++) {
      x -= weights[i]!;
      if (x <= 0) return i;
    }
    return forums - 1;
  };
  for (let u = 0; u < users; u++) {
    members[pick()]!.push(u);
    // One in four users is also in a second forum.
    if (r() < 0.25) {
      const f = pick();
      if (!members[f]!.includes(u)) members[f]!.push(u);
    }
  }
  for (const m of members) if (m.length === 0) m.push(Math.floor(r() * users));

  // Messages: spread over rooms in proportion to their size, over three years; a share are
  // replies, edits, reactions and thread replies; media messages are spread the same way.
  const total = messageCount + mediaCount;
  const messages: PlannedMessage[] = [];
  const sizeOfRoom = members.map((m) => m.length);
  const ssum = sizeOfRoom.reduce((a, b) => a + b, 0);
  for (let i = 0; i < total; i++) {
    let x = r() * ssum;
    let room = 0;
    while (room < forums - 1 && (x -= sizeOfRoom[room]!) > 0) room++;
    const m = members[room]!;
    const sender = m[Math.floor(r() * m.length)]!;
    const isMedia = i < mediaCount ? true : false;
    const k = r();
    const kind: MessageKind = isMedia ? "media" : k < 0.7 ? "text" : k < 0.82 ? "reply" : k < 0.88 ? "edit" : k < 0.95 ? "reaction" : "thread";
    // Text lengths: mostly short chat lines, some long posts. Files: 1 to 8 KiB (synthetic bodies;
    // the harness tracks their count and bytes rather than the incident's 13.51 GB).
    const size = isMedia ? 1024 + Math.floor(r() * 7 * 1024) : Math.floor(20 + Math.pow(r(), 3) * 1500);
    messages.push({ room, sender, kind, ageMs: Math.floor(r() * THREE_YEARS_MS), size });
  }
  messages.sort((a, b) => b.ageMs - a.ageMs);

  // Forum 0 is the biggest: its creator is left out (it holds power 100 there).
  const victims = members[0]!.slice(1, 7);
  const legit: number[] = [];
  for (let i = 0; legit.length < Math.min(40, users - victims.length - 1) && i < users; i++) if (!victims.includes(i)) legit.push(i);
  return {
    scale,
    seed,
    users,
    forums,
    members,
    messages,
    privateRooms: scaled(INCIDENT.privateRooms, scale),
    dms: scaled(INCIDENT.dms, scale),
    victims,
    legit,
  };
}

const WORDS =
  "le la les un une des réunion dossier projet note service direction ministère agent calendrier budget rapport version réponse question demain semaine équipe document merci bonjour point ordre jour validation circulaire arrêté préfecture rectorat académie".split(
    " ",
  );

/** A body of about `len` characters of plausible French administrative chat. */
export function body(r: () => number, len: number): string {
  let s = "";
  while (s.length < len) s += (s ? " " : "") + WORDS[Math.floor(r() * WORDS.length)];
  return s.slice(0, len);
}
