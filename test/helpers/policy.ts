// A test server running the government model, with a test SMTP receiver and helpers for the email
// registration dance through matrix-js-sdk (requestToken → code from the mail → submit → register).
import { randomBytes } from "node:crypto";
import { startTestServer, type TestServer } from "./server.js";
import { startSmtp, type SmtpReceiver } from "./smtp.js";
import { client, sdk } from "./sdk.js";

export const SERVER = "rempart.test";
export const EMAIL_RULES = [
  { pattern: "^(.+\\.)?interieur\\.gouv\\.fr$", server: SERVER },
  { pattern: "^education\\.gouv\\.fr$", server: "agent.education.tchap.test" },
  { pattern: "^ancien\\.gouv\\.fr$", server: "agent.ancien.tchap.test", new_server: SERVER },
];

export interface PolicyServer extends TestServer {
  smtp: SmtpReceiver;
}

export async function startPolicyServer(policy: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<PolicyServer> {
  const smtp = await startSmtp();
  const s = await startTestServer({
    ...extra,
    policy: {
      enabled: true,
      email_rules: EMAIL_RULES,
      ...policy,
      smtp: { host: "127.0.0.1", port: smtp.port, require_tls: false, from: "Rempart <noreply@rempart.test>", language: "en", ...((policy.smtp as object) ?? {}) },
    },
  } as unknown as Parameters<typeof startTestServer>[0]);
  const close = s.close.bind(s);
  return Object.assign(s, {
    smtp,
    async close() {
      await close();
      await smtp.close();
    },
  });
}

/** The code and link of the latest validation mail to `email`. */
export async function validationCode(s: PolicyServer, email: string): Promise<{ code: string; link: string }> {
  const mail = await s.smtp.take(email, /validation code|code de validation/i);
  const code = /\b(\d{6})\b/.exec(mail.text)![1]!;
  const link = /(http\S+submitToken\S+)/.exec(mail.text)![1]!;
  return { code, link };
}

/** Replaces the origin of a server URL (public_baseurl has port 0 in tests) with the real one. */
export const local = (s: TestServer, url: string) => s.url + new URL(url).pathname + new URL(url).search;

/** Registers `email` through matrix-js-sdk: token request, code from the mail, UIA, register. */
export async function registerByEmail(s: PolicyServer, email: string, password = `pw-${randomBytes(6).toString("hex")}`): Promise<{ userId: string; accessToken: string; deviceId: string; client: sdk.MatrixClient; password: string }> {
  const anon = client(s.url);
  const secret = `secret${randomBytes(8).toString("hex")}`;
  const { sid, submit_url } = await anon.requestRegisterEmailToken(email, secret, 1);
  const { code } = await validationCode(s, email);
  const ok = await anon.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, secret, code);
  if (!(ok as { success?: boolean }).success) throw new Error("code refused");
  let session: string | undefined;
  try {
    await anon.registerRequest({ password });
  } catch (e) {
    session = ((e as sdk.MatrixError).data as { session?: string }).session;
  }
  const res = await anon.registerRequest({ password, auth: { type: "m.login.email.identity", session, threepid_creds: { sid, client_secret: secret } } as never });
  const c = client(s.url, { accessToken: res.access_token!, userId: res.user_id, deviceId: res.device_id });
  return { userId: res.user_id, accessToken: res.access_token!, deviceId: res.device_id!, client: c, password };
}

export { expectError } from "./sdk.js";
