// A stream position allocator for the end-to-end streams (device lists, to-device). Positions are
// allocated in memory like room events (rooms/stream-ids.ts: readers only see up to the highest
// position below which everything committed) and the high-water mark is persisted in `streams`
// inside each write's transaction, so that a position is never handed out twice, even after the
// rows that carried it were deleted (acknowledged to-device messages) and the server restarted.
import { sql } from "kysely";
import type { Db } from "../storage/database.js";
import { streamsRepo } from "../storage/streams.js";
import { StreamIdGenerator } from "../rooms/stream-ids.js";

export class E2eStream {
  private constructor(
    private readonly name: string,
    private readonly ids: StreamIdGenerator,
  ) {}

  static async open(db: Db, name: string, maxInTable: number): Promise<E2eStream> {
    const persisted = await streamsRepo(db).current(name);
    return new E2eStream(name, new StreamIdGenerator(Math.max(persisted, maxInTable)));
  }

  current(): number {
    return this.ids.current();
  }

  /** Runs `work` in a transaction with a fresh position; the position is released whatever happens. */
  async write<T>(db: Db, work: (tx: Db, position: number) => Promise<T>): Promise<T> {
    const position = this.ids.allocate();
    try {
      return await db.transaction().execute(async (tx) => {
        const result = await work(tx, position);
        await tx
          .insertInto("streams")
          .values({ name: this.name, position })
          .onConflict((oc) =>
            oc.column("name").doUpdateSet({
              position: sql<number>`CASE WHEN streams.position < excluded.position THEN excluded.position ELSE streams.position END`,
            }),
          )
          .execute();
        return result;
      });
    } finally {
      this.ids.finish(position);
    }
  }
}
