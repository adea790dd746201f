// A user's push rules and their changes to the server-default rules.
import type { Db } from "./database.js";
import type { PushRulesTable } from "./schema.js";

export type PushRuleRow = PushRulesTable;

export const pushRulesRepo = (db: Db) => ({
  forUsers: (userIds: string[]) =>
    userIds.length === 0 ? Promise.resolve([] as PushRuleRow[]) : db.selectFrom("push_rules").selectAll().where("user_id", "in", userIds).orderBy("user_id").orderBy("kind").orderBy("ord").execute(),

  defaultChangesForUsers: (userIds: string[]) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; rule_id: string; enabled: number | null; actions: string | null }>)
      : db.selectFrom("push_rule_default_changes").selectAll().where("user_id", "in", userIds).execute(),

  /** Replaces the whole ordered list of one kind (lists are short; renumbering keeps order simple). */
  async replaceKind(userId: string, kind: string, rows: Omit<PushRuleRow, "ord" | "user_id" | "kind">[]): Promise<void> {
    await db.deleteFrom("push_rules").where("user_id", "=", userId).where("kind", "=", kind).execute();
    if (rows.length) await db.insertInto("push_rules").values(rows.map((r, i) => ({ ...r, user_id: userId, kind, ord: i }))).execute();
  },

  update: (userId: string, kind: string, ruleId: string, set: { enabled?: number; actions?: string }) =>
    db.updateTable("push_rules").set(set).where("user_id", "=", userId).where("kind", "=", kind).where("rule_id", "=", ruleId).executeTakeFirst(),

  async changeDefault(userId: string, ruleId: string, set: { enabled?: number; actions?: string }): Promise<void> {
    const existing = await db.selectFrom("push_rule_default_changes").selectAll().where("user_id", "=", userId).where("rule_id", "=", ruleId).executeTakeFirst();
    if (existing) {
      await db.updateTable("push_rule_default_changes").set(set).where("user_id", "=", userId).where("rule_id", "=", ruleId).execute();
    } else {
      await db.insertInto("push_rule_default_changes").values({ user_id: userId, rule_id: ruleId, enabled: set.enabled ?? null, actions: set.actions ?? null }).execute();
    }
  },
});
