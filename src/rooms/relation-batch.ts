// The children of events (for bundled aggregations) asked for by many serialisations at about the
// same time, read with one query: the long-polls one message wakes all serialise that same message
// and each asked for its children. What is read is the same for every viewer (the raw relations);
// each serialisation then applies its own viewer's visibility and ignore list (serialize.ts).
import type { Db } from "../storage/database.js";
import { eventsRepo } from "../storage/events.js";
import { ReadBatch } from "../storage/read-batch.js";

export type ChildSummary = Awaited<ReturnType<ReturnType<typeof eventsRepo>["relationSummariesOf"]>>[number];

const SEP = "\u0000";
/** Parent ids per query: both databases' bind-parameter limits are far above. */
const MAX_PARENTS = 1000;
/** Serialisations answered per batch. Their parent ids are deduplicated and queried MAX_PARENTS at a
 * time, so this bounds no query: the 1,000 long-polls one message wakes all ask about that one
 * message, and 50 per batch made twenty queries (and twenty compilations) of the same single id. */
const MAX_ASKS = 1000;
const batches = new WeakMap<Db, ReadBatch<string[], ChildSummary[]>>();

function batchOf(db: Db): ReadBatch<string[], ChildSummary[]> {
  let b = batches.get(db);
  if (!b) {
    const repo = eventsRepo(db);
    b = new ReadBatch(async (relTypes, asks) => {
      const all = [...new Set(asks.flat())];
      const byParent = new Map<string, ChildSummary[]>();
      for (let i = 0; i < all.length; i += MAX_PARENTS) {
        for (const c of await repo.relationSummariesOf(all.slice(i, i + MAX_PARENTS), relTypes.split(SEP))) {
          const list = byParent.get(c.relates_to!) ?? [];
          list.push(c);
          byParent.set(c.relates_to!, list);
        }
      }
      // Each caller gets its parents' children, in stream order as the query returns them.
      return asks.map((ids) => {
        const out = ids.flatMap((id) => byParent.get(id) ?? []);
        return out.sort((a, b) => Number(a.stream_ordering) - Number(b.stream_ordering));
      });
    }, MAX_ASKS);
    batches.set(db, b);
  }
  return b;
}

/** Children of `eventIds` (distinct ids) with one of `relTypes`, not redacted, oldest first. */
export function relationSummaries(db: Db, eventIds: string[], relTypes: string[]): Promise<ChildSummary[]> {
  if (eventIds.length === 0) return Promise.resolve([]);
  return batchOf(db).get(relTypes.join(SEP), eventIds);
}
