// Profiles (client-server API "Profiles"): display name and avatar URL.
import type { Storage } from "../storage/database.js";
import { usersRepo } from "../storage/users.js";
import { notFound } from "../http/errors.js";

export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

type ProfileListener = (userId: string, profile: Profile) => Promise<void>;

export class Profiles {
  private readonly users;
  private listeners: ProfileListener[] = [];

  constructor(storage: Storage) {
    this.users = usersRepo(storage.db);
  }

  /** rooms/ propagates changes into member events of joined rooms. */
  onChange(listener: ProfileListener): void {
    this.listeners.push(listener);
  }

  async get(userId: string): Promise<Profile> {
    const u = await this.users.get(userId);
    if (!u || u.deactivated) throw notFound("Profile not found");
    const p: Profile = {};
    if (u.displayname !== null) p.displayname = u.displayname;
    if (u.avatar_url !== null) p.avatar_url = u.avatar_url;
    return p;
  }

  async set(userId: string, field: "displayname" | "avatar_url", value: string | null): Promise<void> {
    await this.users.update(userId, { [field]: value });
    const profile = await this.get(userId);
    for (const l of this.listeners) await l(userId, profile);
  }
}
