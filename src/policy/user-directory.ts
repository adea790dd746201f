// User directory search (client-server API "User directory") under the government model: users
// sharing a room with the searcher, plus (config) the server's own non-external users; red-listed
// users (account data im.vector.hide_profile) are never returned; externals may not search.
import type { Storage } from "../storage/database.js";
import { policyRepo } from "../storage/policy.js";
import { forbidden } from "../http/errors.js";

export interface SearchResult {
  results: { user_id: string; display_name?: string; avatar_url?: string }[];
  limited: boolean;
}

export class UserDirectory {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly allLocal: boolean,
    private readonly isExternal: (userId: string) => Promise<boolean>,
  ) {
    this.repo = policyRepo(storage.db);
  }

  async search(searcher: string, term: string, limit: number): Promise<SearchResult> {
    if (await this.isExternal(searcher)) throw forbidden("Externals cannot search the user directory");
    const trimmed = term.trim();
    if (trimmed === "") return { results: [], limited: false };
    const rows = await this.repo.searchUsers(searcher, trimmed, limit + 1, this.allLocal);
    const results = rows.slice(0, limit).map((r) => ({
      user_id: r.user_id,
      ...(r.displayname !== null ? { display_name: r.displayname } : {}),
      ...(r.avatar_url !== null ? { avatar_url: r.avatar_url } : {}),
    }));
    return { results, limited: rows.length > limit };
  }
}
