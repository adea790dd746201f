// Profiles (client-server API "Profiles"). Reading a profile requires an account here: a public
// administration's directory is not for anonymous enumeration.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { authenticate, requireSelf } from "../auth.js";
import { badJson, invalidParam } from "../errors.js";
import { isValidUserId } from "../../matrix/identifiers.js";
import { gate } from "../gate.js";
import type { Requester } from "../../accounts/sessions.js";
import type { FastifyRequest } from "fastify";

type Field = "displayname" | "avatar_url";
const FIELDS: Field[] = ["displayname", "avatar_url"];

function checkUserId(userId: string): void {
  if (!isValidUserId(userId, { historical: true })) throw invalidParam("Invalid user ID");
}

export function registerProfileRoutes(http: FastifyInstance, app: App): void {
  // Another user's profile is a user-directory read (enumerating accounts); one's own is not metered.
  const gateProfile = (req: FastifyRequest<{ Params: { userId: string } }>, who: Requester) =>
    gate(app, req, who, "profile", req.params.userId === who.userId ? {} : { directory: { query: req.params.userId, results: 1 } });

  http.get<{ Params: { userId: string } }>("/_matrix/client/v3/profile/:userId", async (req) => {
    const who = await authenticate(app, req);
    checkUserId(req.params.userId);
    const profile = await app.profiles.get(req.params.userId);
    await gateProfile(req, who);
    return profile;
  });

  for (const field of FIELDS) {
    http.get<{ Params: { userId: string } }>(`/_matrix/client/v3/profile/:userId/${field}`, async (req) => {
      const who = await authenticate(app, req);
      checkUserId(req.params.userId);
      const profile = await app.profiles.get(req.params.userId);
      await gateProfile(req, who);
      return profile[field] === undefined ? {} : { [field]: profile[field] };
    });

    http.put<{ Params: { userId: string } }>(`/_matrix/client/v3/profile/:userId/${field}`, async (req) => {
      const who = await authenticate(app, req);
      checkUserId(req.params.userId);
      requireSelf(who, req.params.userId);
      app.policy.checkProfileChange(field);
      const body = parseBody(z.object({ [field]: text().max(field === "displayname" ? 256 : 1024).nullable().optional() }), req.body);
      const value = (body as Record<string, string | null | undefined>)[field] ?? null;
      if (field === "avatar_url" && value !== null && value !== "" && !/^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/.test(value)) {
        throw badJson("avatar_url must be an mxc:// URI");
      }
      await app.profiles.set(who.userId, field, value === "" ? null : value);
      return {};
    });
  }
}
