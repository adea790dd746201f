// Introspection of the zod schema: the leaves of the configuration tree with their kind, default
// and description. Used for environment overrides (to coerce strings to the right type) and for the
// generated reference and sample file.
import type { z } from "zod";
import { configSchema } from "./schema.js";

export type LeafKind = "string" | "number" | "boolean" | "enum" | "array" | "other";

export interface ConfigLeaf {
  path: string[];
  kind: LeafKind;
  description: string;
  defaultValue: unknown;
  optional: boolean;
  choices?: string[];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  defaultValue?: unknown;
  entries?: Record<string, string>;
}

const defOf = (t: z.ZodType): Def => (t as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(t: z.ZodType): { core: z.ZodType; defaultValue: unknown; optional: boolean } {
  let cur = t;
  let defaultValue: unknown = undefined;
  let optional = false;
  for (;;) {
    const d = defOf(cur);
    if (d.type === "default" || d.type === "prefault") {
      defaultValue = typeof d.defaultValue === "function" ? (d.defaultValue as () => unknown)() : d.defaultValue;
    } else if (d.type === "optional" || d.type === "nullable") {
      optional = true;
    } else break;
    cur = d.innerType!;
  }
  return { core: cur, defaultValue, optional };
}

function walk(t: z.ZodType, path: string[], out: ConfigLeaf[]): void {
  const { core, defaultValue, optional } = unwrap(t);
  const d = defOf(core);
  if (d.type === "object" && d.shape) {
    for (const [k, v] of Object.entries(d.shape)) walk(v, [...path, k], out);
    return;
  }
  const kind: LeafKind =
    d.type === "string" ? "string" : d.type === "number" ? "number" : d.type === "boolean" ? "boolean" : d.type === "enum" ? "enum" : d.type === "array" ? "array" : "other";
  out.push({
    path,
    kind,
    description: t.description ?? core.description ?? "",
    defaultValue,
    optional,
    choices: d.type === "enum" && d.entries ? Object.values(d.entries) : undefined,
  });
}

let cached: ConfigLeaf[] | undefined;
export function configLeaves(): ConfigLeaf[] {
  if (!cached) {
    cached = [];
    walk(configSchema, [], cached);
  }
  return cached;
}

/** Description of an object-valued section (e.g. password_hashing), for headings. */
export function sectionDescription(key: string): string {
  const shape = defOf(configSchema).shape!;
  return shape[key]?.description ?? "";
}

export const envName = (path: string[]): `REMPART_${string}` => `REMPART_${path.join("__").toUpperCase()}`;
