// The government model as one service (docs/government-model.md). Rooms call it through three
// small hooks (RoomWriter checks, Rooms create check, Membership before-leave); routes call it for
// /info, email registration, email invites, the user directory and account validity.
import type { Logger } from "pino";
import { randomBytes } from "node:crypto";
import { signJson, type SigningKey } from "../matrix/signing.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { Storage } from "../storage/database.js";
import { policyRepo } from "../storage/policy.js";
import { parseUserId } from "../matrix/identifiers.js";
import { stateKey } from "../matrix/pdu.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";
import { MatrixError, forbidden, invalidParam } from "../http/errors.js";
import type { CreateRoomRequest } from "../rooms/create-room.js";
import type { EventDraft, RoomSnapshot, RoomWriter } from "../rooms/writer.js";
import type { Membership } from "../rooms/membership.js";
import { EmailMapper, derivedDisplayName, derivedLocalpart, normaliseEmail, type EmailMapping } from "./domains.js";
import { activeMembers, judgeEvent, ruleOf } from "./access-rules.js";
import { applyCreatePolicy, createPlan, createRoomProblem } from "./forums.js";
import { lastAdminSuccessor, mayListDirectory } from "./externals.js";
import type { Mailer } from "./email/mailer.js";
import { invitationMail } from "./email/templates.js";
import { EmailValidation, type Purpose, type TokenRequest } from "./email/validation.js";

export class Policy {
  readonly enabled: boolean;
  readonly mapper: EmailMapper;
  readonly externalsServer: string;
  private readonly repo;
  private readonly cfg: ResolvedConfig["policy"];
  private externalCache = new Map<string, boolean>();

  constructor(
    storage: Storage,
    private readonly config: ResolvedConfig,
    private readonly mailer: Mailer,
    readonly validation: EmailValidation,
    private readonly writer: RoomWriter,
    private readonly membership: Membership,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly key: SigningKey,
  ) {
    this.cfg = config.policy;
    this.enabled = this.cfg.enabled;
    this.externalsServer = this.cfg.externals_server ?? config.server_name;
    this.mapper = new EmailMapper(this.cfg.email_rules, this.externalsServer);
    this.repo = policyRepo(storage.db);
  }

  // --- who is external ---

  /** Externals: flagged users here, or any user of the externals' own server. */
  async isExternal(userId: string): Promise<boolean> {
    if (!this.enabled) return false;
    const hit = this.externalCache.get(userId);
    if (hit !== undefined) return hit;
    const server = parseUserId(userId, { historical: true })?.serverName;
    let ext: boolean;
    if (server !== this.config.server_name) ext = server === this.externalsServer;
    else ext = (await this.repo.getUser(userId))?.external === 1;
    if (this.externalCache.size > 100_000) this.externalCache.clear();
    this.externalCache.set(userId, ext);
    return ext;
  }

  async externalsAmong(userIds: Iterable<string>): Promise<Set<string>> {
    const out = new Set<string>();
    for (const u of new Set(userIds)) if (await this.isExternal(u)) out.add(u);
    return out;
  }

  async mayListDirectory(userId: string): Promise<boolean> {
    return mayListDirectory({ external: await this.isExternal(userId) });
  }

  // --- email → server ---

  /** GET /_matrix/identity/api/v1/info. */
  async info(address: string): Promise<{ hs: string; new_hs?: string; invited: boolean }> {
    const email = normaliseEmail(address);
    if (!email) throw invalidParam("Invalid email address");
    const m = this.mapper.map(email);
    const invited = (await this.repo.pendingInvites(email)).length > 0;
    return m.new_hs ? { hs: m.hs, new_hs: m.new_hs, invited } : { hs: m.hs, invited };
  }

  /** Whether `email` may have an account here; the mapping when it may (external: needs an invite). */
  private async mayRegisterHere(email: string): Promise<EmailMapping> {
    const m = this.mapper.map(email);
    if (m.hs !== this.config.server_name) throw new MatrixError(403, "M_THREEPID_DENIED", `This address belongs to another server (${m.hs})`);
    if (m.external && (await this.repo.pendingInvites(email)).length === 0) {
      throw new MatrixError(403, "M_THREEPID_DENIED", "Externals need an invitation to register");
    }
    return m;
  }

  /** POST /register/email/requestToken and /account/3pid/email/requestToken. */
  async requestEmailToken(purpose: Purpose, req: TokenRequest): Promise<{ sid: string; submit_url: string }> {
    if (!this.enabled) throw forbidden("Email validation is not enabled on this server");
    const email = EmailValidation.checkRequest(req);
    await this.mayRegisterHere(email);
    if (await this.repo.userByEmail(email)) throw new MatrixError(400, "M_THREEPID_IN_USE", "This email address is already in use");
    return this.validation.requestToken(purpose, email, req);
  }

  /** The m.login.email.identity stage: the proven address, still allowed here. */
  async emailStage(auth: Record<string, unknown>): Promise<{ email: string; external: boolean }> {
    const creds = (auth.threepid_creds ?? auth.threepidCreds ?? {}) as Record<string, unknown>;
    const email = await this.validation.validatedEmail("register", creds.sid, creds.client_secret);
    const m = await this.mayRegisterHere(email).catch((e: unknown) => {
      throw e instanceof MatrixError ? new MatrixError(401, e.errcode, e.message) : e;
    });
    if (await this.repo.userByEmail(email)) throw new MatrixError(401, "M_THREEPID_IN_USE", "This email address is already in use");
    return { email, external: m.external };
  }

  /** Localpart and display name of an email registration. */
  identityFor(email: string): { localpart?: string; displayname: string } {
    const displayname = derivedDisplayName(email);
    return this.cfg.localpart === "derived" ? { localpart: derivedLocalpart(email), displayname } : { displayname };
  }

  /** After an email registration: remember the address and flag, turn pending email invites into invites. */
  async registered(userId: string, email: string, external: boolean): Promise<void> {
    await this.repo.upsertUser({ user_id: userId, email, external: external ? 1 : 0 });
    this.externalCache.delete(userId);
    const pending = await this.repo.pendingInvites(email);
    for (const inv of pending) {
      try {
        // The invite proves the address with `signed` (client-server API "Third-party invites"):
        // this server, acting as the identity service, signs {mxid, sender, token} with the key
        // published in the room's m.room.third_party_invite; the auth rules (4.4.1) verify it.
        const signed = signJson({ mxid: userId, sender: inv.sender, token: inv.token }, this.config.server_name, this.key);
        const content = { membership: "invite", displayname: derivedDisplayName(email), third_party_invite: { display_name: inv.display_name, signed } };
        await this.writer.send(inv.room_id, { type: "m.room.member", state_key: userId, sender: inv.sender, content });
      } catch (e) {
        // The inviter may have left or lost the right to invite since: the invitation lapses.
        this.log.info({ room_id: inv.room_id, errcode: e instanceof MatrixError ? e.errcode : "error" }, "email invitation could not be delivered");
      }
    }
    await this.repo.consumeInvites(pending.map((p) => p.id), this.now());
  }

  /** POST /account/3pid/add: binds a proven address to an existing account. */
  async addEmail(userId: string, sid: string, clientSecret: string): Promise<void> {
    const email = await this.validation.validatedEmail("add", sid, clientSecret).catch((e: unknown) => {
      throw e instanceof MatrixError && e.status === 401 ? new MatrixError(400, "M_THREEPID_AUTH_FAILED", e.message) : e;
    });
    const owner = await this.repo.userByEmail(email);
    if (owner && owner.user_id !== userId) throw new MatrixError(400, "M_THREEPID_IN_USE", "This email address is already in use");
    const current = await this.repo.getUser(userId);
    await this.repo.upsertUser({ user_id: userId, email, external: current?.external ?? 0 });
  }

  async threepids(userId: string): Promise<{ medium: string; address: string; validated_at: number; added_at: number }[]> {
    const row = await this.repo.getUser(userId);
    return row?.email ? [{ medium: "email", address: row.email, validated_at: 0, added_at: 0 }] : [];
  }

  async emailOf(userId: string): Promise<string | undefined> {
    return (await this.repo.getUser(userId))?.email ?? undefined;
  }

  /** Display names derived from the email may be locked (config policy.lock_displayname). */
  checkProfileChange(field: string): void {
    if (this.enabled && this.cfg.lock_displayname && field === "displayname") throw forbidden("Display names cannot be changed on this server");
  }

  // --- rooms ---

  /** Rooms.create hook: refuses or adjusts a createRoom request. */
  async checkCreateRoom(creator: string, req: CreateRoomRequest): Promise<CreateRoomRequest> {
    if (!this.enabled) return req;
    const externals = [...(await this.externalsAmong(req.invite ?? []))];
    // invite_3pid is judged up front too, so that a refused address creates no room.
    let externalAddresses = 0;
    for (const t of req.invite_3pid ?? []) {
      if (t.medium !== "email" || typeof t.address !== "string") throw invalidParam("invite_3pid: only email invitations are supported");
      const email = normaliseEmail(t.address);
      if (!email) throw invalidParam("invite_3pid: invalid email address");
      const owner = await this.repo.userByEmail(email);
      if (owner) {
        if (await this.isExternal(owner.user_id)) externals.push(owner.user_id);
        continue;
      }
      const m = this.mapper.map(email);
      if (m.hs !== this.config.server_name) throw forbidden(`This address belongs to another server (${m.hs}): federation is not enabled`);
      if (m.external) externalAddresses++;
    }
    const problem = createRoomProblem(req, await this.isExternal(creator), externals) ?? (externalAddresses > 0 ? createRoomProblem(req, false, ["(invited address)"]) : undefined);
    if (problem) throw forbidden(problem);
    return applyCreatePolicy(req, externals, this.cfg.tchap_power_levels);
  }

  /** Rooms.create after-hook: the request's invite_3pid, as invitations by email. */
  async inviteThirdParties(creator: string, roomId: string, req: CreateRoomRequest): Promise<void> {
    for (const t of req.invite_3pid ?? []) await this.inviteByEmail(creator, roomId, String(t.medium), String(t.address));
  }

  /** Whether a room may be published in the room directory (only restricted rooms). */
  async mayPublishRoom(roomId: string): Promise<boolean> {
    if (!this.enabled) return true;
    return ruleOf((await this.writer.snapshot(roomId)).state) === "restricted";
  }

  /** RoomWriter hook: judges a client event against access rules, forums and externals. */
  async checkEvent(room: RoomSnapshot, draft: EventDraft): Promise<void> {
    if (!this.enabled) return;
    const involved = [draft.sender];
    if (draft.state_key) involved.push(draft.state_key);
    if (draft.type === "m.room.power_levels") {
      involved.push(...Object.keys((draft.content.users ?? {}) as object));
      if (typeof draft.content.users_default === "number" && draft.content.users_default > 0) involved.push(...activeMembers(room.state));
    }
    const problem = judgeEvent(room.state, draft, await this.externalsAmong(involved));
    if (problem) throw forbidden(problem);
  }

  /** Membership hook: before the last admin leaves, promote the highest moderator (never an external). */
  async beforeLeave(userId: string, roomId: string): Promise<void> {
    if (!this.enabled) return;
    const snap = await this.writer.snapshot(roomId);
    if (snap.state.get(stateKey("m.room.member", userId))?.content.membership !== "join") return;
    const members = activeMembers(snap.state);
    const successor = lastAdminSuccessor(snap, userId, await this.externalsAmong(members));
    if (!successor) return;
    const current = snap.state.get(stateKey("m.room.power_levels", ""))?.content ?? {};
    const users = { ...((current.users ?? {}) as Record<string, number>), [successor]: 100 };
    // Sent as the leaving admin, who still holds the power to do it (as Tchap's server module does).
    await this.writer.send(roomId, { type: "m.room.power_levels", state_key: "", sender: userId, content: { ...current, users } });
    this.log.info({ room_id: roomId, user_id: successor }, "promoted a moderator: the last admin left");
  }

  /** POST /rooms/{roomId}/invite with medium/address: an invitation by email. */
  async inviteByEmail(sender: string, roomId: string, medium: string, address: string): Promise<void> {
    if (!this.enabled) throw forbidden("Invitations by email are not enabled on this server");
    if (medium !== "email") throw invalidParam("Only email invitations are supported");
    const email = normaliseEmail(address);
    if (!email) throw invalidParam("Invalid email address");
    if (await this.isExternal(sender)) throw forbidden("Externals cannot invite");
    const snap = await this.writer.snapshot(roomId);
    if (snap.state.get(stateKey("m.room.member", sender))?.content.membership !== "join") throw forbidden("You are not in this room");
    const pl = powerLevelsFrom(snap.state.get(stateKey("m.room.power_levels", ""))?.content, snap.createEvent, snap.version);
    if (userPowerLevel(pl, sender) < pl.invite) throw forbidden("You cannot invite users to this room");
    const owner = await this.repo.userByEmail(email);
    if (owner) {
      // The address already has an account here: an ordinary invite, with every room rule applied.
      await this.membership.invite(sender, roomId, owner.user_id);
      return;
    }
    const m = this.mapper.map(email);
    if (m.hs !== this.config.server_name) throw forbidden(`This address belongs to another server (${m.hs}): federation is not enabled`);
    const rule = ruleOf(snap.state);
    if (m.external && rule === "restricted") throw forbidden("This room is not open to externals");
    if (rule === "direct" && activeMembers(snap.state).length >= 2) throw forbidden("A direct chat has at most two members");
    // The pending invitation as the spec's m.room.third_party_invite (clients show it in the room);
    // its state_key is the token that the invite sent at registration refers to.
    const token = randomBytes(18).toString("base64url");
    const displayName = maskEmail(email);
    const keyValidityUrl = `${this.config.public_baseurl}_matrix/identity/v2/pubkey/isvalid`;
    await this.writer.send(roomId, {
      type: "m.room.third_party_invite",
      state_key: token,
      sender,
      content: { display_name: displayName, key_validity_url: keyValidityUrl, public_key: this.key.publicKeyBase64, public_keys: [{ public_key: this.key.publicKeyBase64, key_validity_url: keyValidityUrl }] },
    });
    await this.repo.insertInvite({ room_id: roomId, sender, address: email, token, display_name: displayName, created_ts: this.now() });
    this.mailer.send(email, invitationMail(this.cfg.smtp.language, { inviter: sender, server: this.config.server_name })).catch(() => {
      // Logged by the mailer; the invitation stands and /info reports it.
    });
  }

  /** Exposed for the create-room plan of tests and docs. */
  static planOf = createPlan;

  /** GET /_matrix/identity/v2/pubkey/isvalid: whether a key is this server's invitation key. */
  isValidPublicKey(publicKey: string): boolean {
    return publicKey === this.key.publicKeyBase64;
  }

  /** GET /_matrix/identity/v2/pubkey/{keyId}. */
  publicKey(keyId: string): string | undefined {
    return keyId === this.key.keyId ? this.key.publicKeyBase64 : undefined;
  }
}

/** What room members see of an invited address: "bob…@partner.example" (Sydent masks similarly). */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(3, Math.max(1, local.length - 1)))}…${email.slice(at)}`;
}
