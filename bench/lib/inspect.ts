// Reads what the server actually stored, to report the parameters it really used.
import SQLite from "better-sqlite3";
import pg from "pg";
import { join } from "node:path";
import { assertLoopback } from "./loopback.js";

export interface Argon2Params {
  variant: string;
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** Parses the PHC string of an argon2 hash: $argon2id$v=19$m=19456,t=2,p=1$salt$hash (any order). */
export function parseArgon2(phc: string): Argon2Params {
  const parts = phc.split("$");
  const params = new Map((parts[3] ?? "").split(",").map((kv) => kv.split("=") as [string, string]));
  const num = (k: string) => {
    const v = Number(params.get(k));
    if (!Number.isFinite(v)) throw new Error(`argon2 hash without ${k}=`);
    return v;
  };
  if (!/^argon2(id|i|d)$/.test(parts[1] ?? "")) throw new Error("not an argon2 PHC string");
  return { variant: parts[1]!, memoryKib: num("m"), timeCost: num("t"), parallelism: num("p") };
}

/** The password hash stored for `userId`, from the server's SQLite file or PostgreSQL database. */
export async function storedPasswordHash(where: { dataDir: string; database?: string }, userId: string): Promise<string> {
  const q = "SELECT password_hash FROM users WHERE user_id = ";
  if (where.database) {
    assertLoopback(where.database, "PostgreSQL");
    const c = new pg.Client({ connectionString: where.database });
    await c.connect();
    try {
      const r = await c.query<{ password_hash: string }>(q + "$1", [userId]);
      return r.rows[0]!.password_hash;
    } finally {
      await c.end();
    }
  }
  const db = new SQLite(join(where.dataDir, "rempart.db"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(q + "?").get(userId) as { password_hash: string }).password_hash;
  } finally {
    db.close();
  }
}
