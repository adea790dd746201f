// Signing in the way an account with a second factor must (client-server API "Single Sign-On" +
// "Token-based login"): Rempart refuses m.login.password for such accounts, so a client goes
// through the web login (password, then a TOTP code), is handed an m.login.token, and exchanges it.
// Browser-less: keeps the web session cookie and reads each page's CSRF token. Used by the breach
// intruder (who knows the password and the TOTP seed: a full takeover) and by the read-gate tests.
import { TotpFactor } from "../../src/security/mfa/totp.js";

const STEP_MS = 30_000;
const CALLBACK = "https://client.invalid/cb";

export interface SsoOutcome {
  /** The last HTTP status of the journey (200 from /login when signed in). */
  status: number;
  /** Where the journey stopped: "signed_in", "password" (refused), "mfa" (code refused or none), "token". */
  stage: "signed_in" | "password" | "mfa" | "token";
  accessToken?: string;
  deviceId?: string;
  errcode?: string;
}

/** The TOTP side of a takeover: codes for the stolen seed, each step used once (the server refuses
 * a step it has seen), waiting for the next step through `wait` when the steps in reach are used. */
export class StolenTotp {
  private lastStep = -Infinity;
  constructor(
    readonly secret: string,
    private readonly now: () => number,
    private readonly wait: (ms: number) => Promise<void>,
  ) {}

  /** A code of the step holding `ts` was used elsewhere (the enrolment, say): never offer it again. */
  markUsed(ts: number): void {
    this.lastStep = Math.max(this.lastStep, Math.floor(ts / STEP_MS));
  }

  async code(): Promise<string> {
    const current = Math.floor(this.now() / STEP_MS);
    // The server accepts one step of drift either way; below that, the next step must be waited for.
    let step = Math.max(current - 1, this.lastStep + 1);
    if (step > current + 1) {
      await this.wait((step - 1) * STEP_MS - this.now() + 1);
      step = Math.max(Math.floor(this.now() / STEP_MS) - 1, this.lastStep + 1);
    }
    this.lastStep = step;
    return TotpFactor.codeFor(this.secret, step * STEP_MS);
  }
}

/** Exchanges the m.login.token (by default with fetch; the harness sends it from a device's own address). */
export type Exchange = (body: Record<string, unknown>) => Promise<{ status: number; body: Record<string, unknown> }>;

export async function ssoLogin(baseUrl: string, user: string, password: string, totp?: StolenTotp, deviceId?: string, exchange?: Exchange): Promise<SsoOutcome> {
  let cookie = "";
  const keep = (r: Response) => {
    const c = r.headers.get("set-cookie");
    if (c) cookie = c.split(";")[0]!;
    return r;
  };
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const get = async (path: string) => keep(await fetch(baseUrl + path, { redirect: "manual", headers: { cookie, "accept-language": "en" } }));
  const post = async (path: string, body: Record<string, string>) =>
    keep(await fetch(baseUrl + path, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body).toString() }));

  const first = await get(`/_rempart/login?redirect_url=${encodeURIComponent(CALLBACK)}`);
  const afterPassword = await post("/_rempart/login", { username: user, password, csrf: csrfOf(await first.text()) });
  if (afterPassword.status !== 303) return { status: afterPassword.status, stage: "password" };
  let next = afterPassword.headers.get("location") ?? "";
  if (next.startsWith("/_rempart/login/mfa")) {
    const page = await get(next);
    const csrf = csrfOf(await page.text());
    if (!totp) return { status: page.status, stage: "mfa" };
    const afterCode = await post("/_rempart/login/mfa", { code: await totp.code(), csrf });
    if (afterCode.status !== 303) return { status: afterCode.status, stage: "mfa" };
    next = afterCode.headers.get("location") ?? "";
  }
  if (!next.startsWith("/_rempart/login/continue")) return { status: 303, stage: "mfa" };
  const confirm = await get(next);
  const done = await post("/_rempart/login/continue", { csrf: csrfOf(await confirm.text()) });
  const token = new URL(done.headers.get("location") ?? CALLBACK).searchParams.get("loginToken");
  if (!token) return { status: done.status, stage: "token" };
  const send: Exchange =
    exchange ??
    (async (b) => {
      const r = await fetch(`${baseUrl}/_matrix/client/v3/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(b) });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
    });
  const { status, body } = await send({ type: "m.login.token", token, ...(deviceId ? { device_id: deviceId } : {}) });
  if (status !== 200) return { status, stage: "token", errcode: body.errcode as string | undefined };
  return { status: 200, stage: "signed_in", accessToken: body.access_token as string, deviceId: body.device_id as string };
}
