// Email validation sessions (client-server API "Adding Account Administrative Contact Information"
// and the identity service's "Email associations"): requestToken mails a code and a link,
// submitToken proves the address, and the UIA stage m.login.email.identity consumes the proof.
import { randomBytes, randomInt } from "node:crypto";
import type { Storage } from "../../storage/database.js";
import { policyRepo } from "../../storage/policy.js";
import { constantTimeEqual, hashToken } from "../../accounts/secrets.js";
import { MatrixError, invalidParam } from "../../http/errors.js";
import { normaliseEmail } from "../domains.js";
import type { Mailer } from "./mailer.js";
import { validationMail, type Language } from "./templates.js";

export type Purpose = "register" | "add";

export interface TokenRequest {
  client_secret: string;
  email: string;
  send_attempt: number;
  next_link?: string;
}

/** Failed code entries before a session is burnt (a 6-digit code must not be guessable). */
const MAX_FAILED = 5;
// The spec's grammar for client_secret: [0-9a-zA-Z.=_-], 1 to 255 characters.
const CLIENT_SECRET = /^[0-9a-zA-Z.=_-]{1,255}$/;

export class EmailValidation {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly mailer: Mailer,
    private readonly opts: { baseUrl: string; serverName: string; language: Language; lifetimeMs: number },
    private readonly now: () => number,
  ) {
    this.repo = policyRepo(storage.db);
  }

  /** Normalises and validates the request's address and secret; returns the canonical address. */
  static checkRequest(req: TokenRequest): string {
    if (!CLIENT_SECRET.test(req.client_secret)) throw invalidParam("Invalid client_secret");
    const email = normaliseEmail(req.email);
    if (!email) throw invalidParam("Invalid email address");
    return email;
  }

  /**
   * Mails a code for (client_secret, email, purpose). A repeated send_attempt returns the same
   * session without mailing again (spec: "the server should not send another email").
   */
  async requestToken(purpose: Purpose, email: string, req: TokenRequest): Promise<{ sid: string; submit_url: string }> {
    const submitUrl = `${this.opts.baseUrl}_matrix/identity/v2/validate/email/submitToken`;
    const existing = await this.repo.findValidation(req.client_secret, email, purpose);
    if (existing && existing.validated_ts === null && req.send_attempt <= existing.send_attempt) return { sid: existing.sid, submit_url: submitUrl };
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const sid = existing?.sid ?? randomBytes(12).toString("base64url");
    const fields = { token_hash: hashToken(code), send_attempt: req.send_attempt, failed_attempts: 0, created_ts: this.now(), validated_ts: null };
    if (existing) await this.repo.updateValidation(sid, fields);
    else await this.repo.insertValidation({ sid, client_secret: req.client_secret, email, purpose, ...fields });
    const q = new URLSearchParams({ sid, client_secret: req.client_secret, token: code });
    await this.mailer.send(email, validationMail(this.opts.language, { code, link: `${submitUrl}?${q}`, server: this.opts.serverName }));
    if (Math.random() < 0.05) await this.repo.deleteValidationsOlderThan(this.now() - 24 * 3600 * 1000);
    return { sid, submit_url: submitUrl };
  }

  /** Checks a code (from the link or typed by the user). False for a wrong code. */
  async submitToken(sid: string, clientSecret: string, token: string): Promise<boolean> {
    const row = await this.repo.getValidation(sid);
    if (!row || row.client_secret !== clientSecret) throw new MatrixError(400, "M_NO_VALID_SESSION", "Unknown validation session");
    if (row.validated_ts !== null) return true;
    if (row.created_ts + this.opts.lifetimeMs < this.now() || row.failed_attempts >= MAX_FAILED) {
      throw new MatrixError(400, "M_SESSION_EXPIRED", "This validation session has expired; ask for a new code");
    }
    if (!constantTimeEqual(hashToken(token.trim()), row.token_hash)) {
      await this.repo.updateValidation(sid, { failed_attempts: row.failed_attempts + 1 });
      return false;
    }
    await this.repo.updateValidation(sid, { validated_ts: this.now() });
    return true;
  }

  /** The address a validated session proves for `purpose`; 401 while it is not validated. */
  async validatedEmail(purpose: Purpose, sid: unknown, clientSecret: unknown): Promise<string> {
    if (typeof sid !== "string" || typeof clientSecret !== "string") throw new MatrixError(400, "M_BAD_JSON", "threepid_creds needs sid and client_secret");
    const row = await this.repo.getValidation(sid);
    if (!row || row.client_secret !== clientSecret || row.purpose !== purpose) throw new MatrixError(401, "M_FORBIDDEN", "Unknown validation session");
    if (row.validated_ts === null) throw new MatrixError(401, "M_UNAUTHORIZED", "The email address has not been validated yet");
    if (row.validated_ts + this.opts.lifetimeMs < this.now()) throw new MatrixError(401, "M_FORBIDDEN", "This validation has expired");
    return row.email;
  }
}
