// User-interactive authentication (client-server API "User-interactive authentication API").
// A route declares the flows it accepts; the engine answers 401 with flows/params/session until one
// flow is complete, remembering completed stages in a database-backed session. Stage checkers are
// pluggable so that later stages (email, second factor) slot in without changing routes.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Storage } from "../storage/database.js";
import { uiaSessionsRepo } from "../storage/uia-sessions.js";
import { MatrixError, badJson } from "../http/errors.js";

export interface UiaRequest {
  /** What the session authorises, e.g. "POST /register" or "DELETE device ABC"; a session cannot be
   * reused for another operation. */
  purpose: string;
  flows: string[][];
  /** The user the auth must prove to be, for operations on an existing account. */
  userId?: string;
  params?: Record<string, unknown>;
}

export interface StageContext {
  auth: Record<string, unknown>;
  userId?: string;
  session: string;
  /** Stages already completed in this session (e.g. by a fallback web page). */
  completed: string[];
}

/** A stage checker returns normally on success, or throws a MatrixError (usually 401 M_FORBIDDEN)
 * whose errcode/error are folded into the UIA 401 response. */
export type StageChecker = (ctx: StageContext) => Promise<StageResult | void>;
export interface StageResult {
  /** Data the stage learnt (e.g. the registration token used), returned with the completed flow. */
  [k: string]: unknown;
}

interface SessionData {
  purpose: string;
  completed: string[];
  results: Record<string, StageResult>;
}

const authSchema = z.looseObject({ type: z.string().optional(), session: z.string().optional() });
const SESSION_TTL_MS = 15 * 60 * 1000;

export class UserInteractiveAuth {
  private stages = new Map<string, StageChecker>();
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly now: () => number,
  ) {
    this.repo = uiaSessionsRepo(storage.db);
  }

  registerStage(type: string, checker: StageChecker): void {
    this.stages.set(type, checker);
  }

  /**
   * Runs the UIA for one request. Returns the stage results once a flow is complete; otherwise throws
   * the 401 that tells the client what to do next.
   */
  async check(req: UiaRequest, rawAuth: unknown): Promise<Record<string, StageResult>> {
    const flows = req.flows.filter((f) => f.every((s) => this.stages.has(s)));
    if (rawAuth === undefined || rawAuth === null) {
      const session = await this.newSession(req);
      throw this.challenge(flows, req, session, []);
    }
    const parsed = authSchema.safeParse(rawAuth);
    if (!parsed.success) throw badJson("auth must be an object");
    const auth = parsed.data as Record<string, unknown> & { type?: string; session?: string };

    let sessionId = auth.session;
    let data: SessionData;
    if (sessionId) {
      const row = await this.repo.get(sessionId);
      if (!row || row.created_ts < this.now() - SESSION_TTL_MS) {
        throw new MatrixError(400, "M_UNKNOWN", "Unknown or expired user-interactive auth session");
      }
      data = JSON.parse(row.data) as SessionData;
      if (data.purpose !== req.purpose || (row.user_id ?? undefined) !== req.userId) {
        throw new MatrixError(403, "M_FORBIDDEN", "This auth session was started for another request");
      }
    } else {
      // Clients may send a stage straight away (e.g. a password) without a prior 401.
      sessionId = await this.newSession(req);
      data = { purpose: req.purpose, completed: [], results: {} };
    }

    if (auth.type !== undefined) {
      const allowed = flows.some((f) => f.includes(auth.type!));
      const checker = this.stages.get(auth.type);
      if (!allowed || !checker) {
        throw this.challenge(flows, req, sessionId, data.completed, "M_UNRECOGNIZED", `Stage ${auth.type} is not offered here`);
      }
      try {
        const result = (await checker({ auth, userId: req.userId, session: sessionId, completed: data.completed })) ?? {};
        if (!data.completed.includes(auth.type)) data.completed.push(auth.type);
        data.results[auth.type] = result;
        await this.repo.update(sessionId, JSON.stringify(data));
      } catch (e) {
        if (e instanceof MatrixError && e.status !== 401 && e.status !== 403) throw e;
        const err = e instanceof MatrixError ? e : new MatrixError(401, "M_FORBIDDEN", "Authentication failed");
        throw this.challenge(flows, req, sessionId, data.completed, err.errcode, err.message);
      }
    }

    const done = flows.some((f) => f.every((s) => data.completed.includes(s)));
    if (!done) throw this.challenge(flows, req, sessionId, data.completed);
    await this.repo.delete(sessionId);
    return data.results;
  }

  /** What a session was started for and by whom (the fallback web page shows it), if it is live. */
  async describe(sessionId: string): Promise<{ purpose: string; userId: string | null } | undefined> {
    const row = await this.repo.get(sessionId);
    if (!row || row.created_ts < this.now() - SESSION_TTL_MS) return undefined;
    return { purpose: (JSON.parse(row.data) as SessionData).purpose, userId: row.user_id };
  }

  /** Marks a stage done from outside the API (the spec's fallback web page, "Fallback"): only for
   * the user the session belongs to. */
  async completeExternally(sessionId: string, stage: string, userId: string): Promise<boolean> {
    const row = await this.repo.get(sessionId);
    if (!row || row.created_ts < this.now() - SESSION_TTL_MS || row.user_id !== userId) return false;
    const data = JSON.parse(row.data) as SessionData;
    if (!data.completed.includes(stage)) data.completed.push(stage);
    data.results[stage] = {};
    await this.repo.update(sessionId, JSON.stringify(data));
    return true;
  }

  private async newSession(req: UiaRequest): Promise<string> {
    const id = randomBytes(18).toString("base64url");
    const data: SessionData = { purpose: req.purpose, completed: [], results: {} };
    await this.repo.insert({ session_id: id, user_id: req.userId ?? null, created_ts: this.now(), data: JSON.stringify(data) });
    if (Math.random() < 0.01) await this.repo.deleteOlderThan(this.now() - SESSION_TTL_MS);
    return id;
  }

  private challenge(flows: string[][], req: UiaRequest, session: string, completed: string[], errcode?: string, error?: string): MatrixError {
    const body: Record<string, unknown> = {
      flows: flows.map((stages) => ({ stages })),
      params: req.params ?? {},
      session,
    };
    if (completed.length) body.completed = completed;
    return new UiaChallenge(body, errcode, error);
  }
}

/** The 401 of user-interactive auth. Without a failed stage the spec's body carries no errcode. */
export class UiaChallenge extends MatrixError {
  constructor(
    private readonly challengeBody: Record<string, unknown>,
    private readonly failure?: string,
    error?: string,
  ) {
    super(401, failure ?? "M_FORBIDDEN", error ?? "Additional authentication required");
  }

  override body(): Record<string, unknown> {
    return this.failure ? { errcode: this.errcode, error: this.message, ...this.challengeBody } : { ...this.challengeBody };
  }
}
