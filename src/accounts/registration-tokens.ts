// Registration tokens (spec "Token-authenticated registration", m.login.registration_token), managed
// by admins through the Synapse-compatible admin API.
import { randomBytes } from "node:crypto";
import type { Storage } from "../storage/database.js";
import { registrationTokensRepo, type RegistrationTokenRow } from "../storage/registration-tokens.js";
import { sql } from "kysely";
import { MatrixError, invalidParam, notFound } from "../http/errors.js";

const TOKEN_RE = /^[A-Za-z0-9._~-]{1,64}$/;

export class RegistrationTokens {
  private readonly repo;

  constructor(
    private readonly storage: Storage,
    private readonly now: () => number,
  ) {
    this.repo = registrationTokensRepo(storage.db);
  }

  /** Valid = exists, not expired, not used up (spec: validity endpoint). */
  async isValid(token: string): Promise<boolean> {
    if (!TOKEN_RE.test(token)) return false;
    const row = await this.repo.get(token);
    if (!row) return false;
    if (row.expiry_time !== null && row.expiry_time <= this.now()) return false;
    return row.uses_allowed === null || row.completed < row.uses_allowed;
  }

  /** Atomically counts one registration against the token; false if it was used up meanwhile. */
  async consume(token: string): Promise<boolean> {
    const r = await this.storage.db
      .updateTable("registration_tokens")
      .set({ completed: sql<number>`completed + 1` })
      .where("token", "=", token)
      .where((eb) => eb.or([eb("uses_allowed", "is", null), eb("completed", "<", eb.ref("uses_allowed"))]))
      .where((eb) => eb.or([eb("expiry_time", "is", null), eb("expiry_time", ">", this.now())]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  list(): Promise<RegistrationTokenRow[]> {
    return this.repo.list();
  }

  async get(token: string): Promise<RegistrationTokenRow> {
    const row = await this.repo.get(token);
    if (!row) throw notFound("No such registration token");
    return row;
  }

  async create(opts: { token?: string; length?: number; uses_allowed?: number | null; expiry_time?: number | null }): Promise<RegistrationTokenRow> {
    const token = opts.token ?? randomBytes(Math.ceil(((opts.length ?? 16) * 3) / 4)).toString("base64url").slice(0, opts.length ?? 16);
    if (!TOKEN_RE.test(token)) throw invalidParam("token must be 1-64 characters of A-Z a-z 0-9 . _ ~ -");
    if (opts.expiry_time != null && opts.expiry_time < this.now()) throw invalidParam("expiry_time must be in the future");
    const row: RegistrationTokenRow = { token, uses_allowed: opts.uses_allowed ?? null, pending: 0, completed: 0, expiry_time: opts.expiry_time ?? null };
    if (!(await this.repo.insert(row))) throw new MatrixError(400, "M_INVALID_PARAM", "Token already exists");
    return row;
  }

  async update(token: string, patch: { uses_allowed?: number | null; expiry_time?: number | null }): Promise<RegistrationTokenRow> {
    await this.get(token);
    await this.repo.update(token, patch);
    return this.get(token);
  }

  async delete(token: string): Promise<void> {
    if (!(await this.repo.delete(token))) throw notFound("No such registration token");
  }
}
