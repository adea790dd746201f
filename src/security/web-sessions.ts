// Web login sessions of Rempart's own pages (login, second factor, account page, UIA fallback):
// a random cookie value, stored hashed, with a CSRF token for the forms and a small JSON bag
// (where to go once logged in, the WebAuthn challenge, a TOTP seed being enrolled — sealed).
import { randomBytes } from "node:crypto";
import type { Storage } from "../storage/database.js";
import type { Db } from "../storage/database.js";
import { hashToken } from "../accounts/secrets.js";

export type WebState = "anon" | "password" | "enrol" | "full";

export interface WebSessionData {
  /** m.login.sso: where the client waits for its loginToken. */
  redirect?: string;
  /** A local page to return to (the UIA fallback). */
  then?: string;
  challenge?: string;
  pendingTotp?: string;
  codeFailures?: number;
  lang?: string;
}

export interface WebSession {
  id: string;
  userId: string | null;
  state: WebState;
  csrf: string;
  data: WebSessionData;
}

const repo = (db: Db) => ({
  get: (h: string) => db.selectFrom("web_sessions").selectAll().where("id_hash", "=", h).executeTakeFirst(),
  insert: (row: { id_hash: string; user_id: string | null; state: string; csrf: string; created_ts: number; expires_ts: number; data: string }) =>
    db.insertInto("web_sessions").values(row).execute(),
  update: (h: string, patch: { user_id?: string | null; state?: string; data?: string; csrf?: string }) => db.updateTable("web_sessions").set(patch).where("id_hash", "=", h).execute(),
  delete: (h: string) => db.deleteFrom("web_sessions").where("id_hash", "=", h).execute(),
  deleteExpired: (now: number) => db.deleteFrom("web_sessions").where("expires_ts", "<=", now).execute(),
  deleteForUser: (userId: string) => db.deleteFrom("web_sessions").where("user_id", "=", userId).execute(),
});

export class WebSessions {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly lifetimeMs: () => number,
    private readonly now: () => number,
  ) {
    this.repo = repo(storage.db);
  }

  async create(data: WebSessionData = {}): Promise<WebSession> {
    const id = randomBytes(32).toString("base64url");
    const csrf = randomBytes(24).toString("base64url");
    const t = this.now();
    await this.repo.insert({ id_hash: hashToken(id), user_id: null, state: "anon", csrf, created_ts: t, expires_ts: t + this.lifetimeMs(), data: JSON.stringify(data) });
    if (Math.random() < 0.02) await this.repo.deleteExpired(t);
    return { id, userId: null, state: "anon", csrf, data };
  }

  async get(id: string | undefined): Promise<WebSession | undefined> {
    if (!id) return undefined;
    const row = await this.repo.get(hashToken(id));
    if (!row || Number(row.expires_ts) <= this.now()) return undefined;
    return { id, userId: row.user_id, state: row.state as WebState, csrf: row.csrf, data: JSON.parse(row.data) as WebSessionData };
  }

  /** Moves the session on; a change of user or state gets a new CSRF token (no fixation across logins). */
  async save(s: WebSession, patch: { userId?: string | null; state?: WebState; data?: WebSessionData }): Promise<WebSession> {
    const next = { ...s, ...(patch.userId !== undefined ? { userId: patch.userId } : {}), ...(patch.state ? { state: patch.state } : {}), data: patch.data ?? s.data };
    if (patch.state && patch.state !== s.state) next.csrf = randomBytes(24).toString("base64url");
    await this.repo.update(hashToken(s.id), { user_id: next.userId, state: next.state, data: JSON.stringify(next.data), csrf: next.csrf });
    return next;
  }

  async end(id: string): Promise<void> {
    await this.repo.delete(hashToken(id));
  }

  async endAllFor(userId: string): Promise<void> {
    await this.repo.deleteForUser(userId);
  }
}
