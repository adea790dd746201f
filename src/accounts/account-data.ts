// Account data (client-server API "Client Config"), global and per room.
import type { Storage } from "../storage/database.js";
import { accountDataRepo } from "../storage/account-data.js";
import { MatrixError, notFound } from "../http/errors.js";

/** Types the server manages itself; clients may not write them through /account_data. */
const SERVER_MANAGED_GLOBAL = new Set(["m.push_rules"]);
const SERVER_MANAGED_ROOM = new Set(["m.fully_read", "m.push_rules"]);

type Listener = (userId: string, streamId: number) => void;

export class AccountData {
  private readonly repo;
  private listeners: Listener[] = [];

  constructor(storage: Storage) {
    this.repo = accountDataRepo(storage.db);
  }

  /** sync/ wakes long-polls on changes. */
  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  async get(userId: string, roomId: string, type: string): Promise<Record<string, unknown>> {
    const row = await this.repo.get(userId, roomId, type);
    if (!row) throw notFound("Account data not found");
    return JSON.parse(row.content) as Record<string, unknown>;
  }

  /** Writes from clients: server-managed types are refused with 405 M_BAD_JSON (spec). */
  async putFromClient(userId: string, roomId: string, type: string, content: Record<string, unknown>): Promise<void> {
    const managed = roomId === "" ? SERVER_MANAGED_GLOBAL : SERVER_MANAGED_ROOM;
    if (managed.has(type)) {
      throw new MatrixError(405, "M_BAD_JSON", `Cannot set ${type} through this API`);
    }
    await this.put(userId, roomId, type, content);
  }

  async put(userId: string, roomId: string, type: string, content: Record<string, unknown>): Promise<number> {
    const streamId = await this.repo.put(userId, roomId, type, JSON.stringify(content));
    for (const l of this.listeners) l(userId, streamId);
    return streamId;
  }
}
