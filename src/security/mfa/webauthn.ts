// WebAuthn passkeys and security keys (@simplewebauthn/server). The relying party id is the host of
// public_baseurl and the expected origin its origin, both read at each call (a deployment may change
// them on restart; tests set them once the port is known). Challenges are kept by the caller in the
// web session, so that a ceremony is bound to the browser that started it.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";

// Loaded on first use: most processes never see a passkey ceremony, and the library (with its
// CBOR/ASN.1 parsers) costs resident memory at start-up (bench/foundation.ts measures idle RSS).
const webauthn = () => import("@simplewebauthn/server");
import type { Storage } from "../../storage/database.js";
import { webauthnRepo } from "../../storage/mfa.js";

export interface WebAuthnKey {
  id: string;
  name: string;
  created_ts: number;
  last_used_ts: number | null;
}

export class WebAuthnFactor {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly baseUrl: () => string,
    private readonly rpName: string,
    private readonly now: () => number,
  ) {
    this.repo = webauthnRepo(storage.db);
  }

  private rp(): { rpID: string; origin: string } {
    const u = new URL(this.baseUrl());
    return { rpID: u.hostname, origin: u.origin };
  }

  async registrationOptions(userId: string, displayName: string) {
    const existing = await this.repo.list(userId);
    return (await webauthn()).generateRegistrationOptions({
      rpName: this.rpName,
      rpID: this.rp().rpID,
      userName: userId,
      userDisplayName: displayName,
      userID: new TextEncoder().encode(userId),
      attestationType: "none",
      excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] })),
      authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    });
  }

  /** Verifies a registration against the challenge the server issued; stores the credential. */
  async register(userId: string, response: unknown, expectedChallenge: string, name: string): Promise<boolean> {
    const { rpID, origin } = this.rp();
    try {
      const r = await (await webauthn()).verifyRegistrationResponse({ response: response as RegistrationResponseJSON, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID });
      if (!r.verified) return false;
      const c = r.registrationInfo.credential;
      if (await this.repo.get(c.id)) return false;
      await this.repo.insert({
        credential_id: c.id,
        user_id: userId,
        public_key: Buffer.from(c.publicKey).toString("base64url"),
        counter: c.counter,
        transports: JSON.stringify(c.transports ?? []),
        name: name.slice(0, 100) || "Security key",
        created_ts: this.now(),
        last_used_ts: null,
      });
      return true;
    } catch {
      return false;
    }
  }

  async authenticationOptions(userId: string) {
    const creds = await this.repo.list(userId);
    return (await webauthn()).generateAuthenticationOptions({
      rpID: this.rp().rpID,
      allowCredentials: creds.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] })),
      userVerification: "preferred",
    });
  }

  /** Verifies an assertion by one of the user's own credentials, and its signature counter. */
  async authenticate(userId: string, response: unknown, expectedChallenge: string): Promise<boolean> {
    const { rpID, origin } = this.rp();
    const id = (response as { id?: unknown } | null)?.id;
    if (typeof id !== "string") return false;
    const row = await this.repo.get(id);
    if (!row || row.user_id !== userId) return false;
    try {
      const r = await (await webauthn()).verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: { id: row.credential_id, publicKey: Buffer.from(row.public_key, "base64url"), counter: Number(row.counter), transports: JSON.parse(row.transports) as never },
      });
      if (!r.verified) return false;
      await this.repo.used(row.credential_id, r.authenticationInfo.newCounter, this.now());
      return true;
    } catch {
      return false;
    }
  }

  async list(userId: string): Promise<WebAuthnKey[]> {
    return (await this.repo.list(userId)).map((c) => ({
      id: c.credential_id,
      name: c.name,
      created_ts: Number(c.created_ts),
      last_used_ts: c.last_used_ts === null ? null : Number(c.last_used_ts),
    }));
  }

  count(userId: string): Promise<number> {
    return this.repo.count(userId);
  }

  async remove(userId: string, credentialId: string): Promise<void> {
    await this.repo.delete(userId, credentialId);
  }
}
