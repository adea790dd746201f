// The UIA stages this server offers (client-server API "Authentication types").
import { z } from "zod";
import type { App } from "../app.js";
import { MatrixError } from "../http/errors.js";

const passwordAuth = z.looseObject({
  identifier: z.looseObject({ type: z.string(), user: z.string().optional() }).optional(),
  user: z.string().optional(),
  password: z.string(),
});

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
    try {
      await app.accounts.checkPassword(userId, r.data.password);
    } catch {
      throw new MatrixError(401, "M_FORBIDDEN", "Invalid username or password");
    }
  });

  app.uia.registerStage("m.login.registration_token", async ({ auth }) => {
    const token = typeof auth.token === "string" ? auth.token : "";
    if (!(await app.registrationTokens.isValid(token))) throw new MatrixError(401, "M_FORBIDDEN", "Invalid registration token");
    return { token };
  });
}
