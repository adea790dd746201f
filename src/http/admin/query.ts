// Query-string helpers for the admin API (Synapse's boolean and enumerated parameters).
import { invalidParam } from "../errors.js";
import { strParam, type Query } from "../client/params.js";

export function boolParam(q: Query, name: string, def: boolean | undefined): boolean | undefined {
  const v = strParam(q, name);
  if (v === undefined || v === "") return def;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParam(`${name} must be true or false`);
}

export function enumParam<T extends string>(q: Query, name: string, allowed: readonly T[], def: T): T {
  const v = strParam(q, name);
  if (v === undefined || v === "") return def;
  if (!(allowed as readonly string[]).includes(v)) throw invalidParam(`${name} must be one of ${allowed.join(", ")}`);
  return v as T;
}
