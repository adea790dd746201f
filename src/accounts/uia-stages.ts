// The UIA stages this server offers (client-server API "Authentication types").
import { z } from "zod";
import type { App } from "../app.js";
import { MatrixError } from "../http/errors.js";

const passwordAuth = z.looseObject({
  identifier: z.looseObject({ type: z.string(), user: z.string().optional() }).optional(),
  user: z.string().optional(),
  password: z.string(),
});

export const TOTP_STAGE = "org.rempart.login.totp";

/** The flows that re-authenticate a user for a sensitive operation (deleting devices, uploading
 * cross-signing keys, changing the password, deactivating): with a second factor when the user must
 * use one (password + code, or the web login with any factor), else the password (or the web login). */
export async function reauthFlows(app: App, userId: string): Promise<string[][]> {
  if (!(await app.mfa.requiredFor(userId))) return [["m.login.password"], ["m.login.sso"]];
  const f = await app.mfa.factors(userId);
  return f.totp || f.recoveryCodes > 0 ? [["m.login.password", TOTP_STAGE], ["m.login.sso"]] : [["m.login.sso"]];
}

export function registerUiaStages(app: App): void {
  app.uia.registerStage("m.login.dummy", async () => {});

  // Re-authentication of an existing account: the password must be the requesting user's own.
  app.uia.registerStage("m.login.password", async ({ auth, userId }) => {
    const r = passwordAuth.safeParse(auth);
    if (!r.success) throw new MatrixError(400, "M_BAD_JSON", "m.login.password needs identifier and password");
    const claimed = r.data.identifier?.user ?? r.data.user;
    if (!userId) throw new MatrixError(401, "M_FORBIDDEN", "Password stage is only for existing accounts");
    if (claimed !== undefined && app.accounts.resolveUserIdentifier(claimed) !== userId) {
      throw new MatrixError(401, "M_FORBIDDEN", "Invalid username or password");
    }
    // Through the login guard too: a stolen access token must not allow unlimited password guesses.
    // The "address" is per user, so these failures never block anyone else.
    try {
      await app.passwordLogin.attempt(userId, r.data.password, `uia:${userId}`);
    } catch (e) {
      if (e instanceof MatrixError && e.status === 429) throw e;
      throw new MatrixError(401, "M_FORBIDDEN", "Invalid username or password");
    }
  });

  // Second factor (issue 9): a TOTP code or a recovery code, for accounts that must use one.
  app.uia.registerStage(TOTP_STAGE, async ({ auth, userId }) => {
    if (!userId) throw new MatrixError(401, "M_FORBIDDEN", "This stage is only for existing accounts");
    const code = typeof auth.code === "string" ? auth.code : "";
    if (!(await app.mfa.verifyCode(userId, code))) throw new MatrixError(401, "M_FORBIDDEN", "Invalid or already used code");
  });

  // Rempart's web login with both factors, done in a browser through the fallback page
  // /_matrix/client/v3/auth/m.login.sso/fallback/web?session=… ("Fallback"); the client then sends
  // the session again (with or without this type).
  app.uia.registerStage("m.login.sso", async ({ completed }) => {
    if (!completed.includes("m.login.sso")) throw new MatrixError(401, "M_FORBIDDEN", "Complete this stage in a web browser (fallback page)");
  });

  app.uia.registerStage("m.login.registration_token", async ({ auth }) => {
    const token = typeof auth.token === "string" ? auth.token : "";
    if (!(await app.registrationTokens.isValid(token))) throw new MatrixError(401, "M_FORBIDDEN", "Invalid registration token");
    return { token };
  });
}
