// Loads the configuration: defaults ← YAML file ← REMPART_* environment variables (nested keys
// joined by "__") ← DATABASE_URL. An invalid configuration is reported as one line naming the key.
import { readFileSync } from "node:fs";
import { resolve, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { configSchema, type ResolvedConfig } from "./schema.js";
import { configLeaves, envName, type ConfigLeaf } from "./walk.js";

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`invalid configuration: ${key}: ${problem}`);
  }
}

/** Environment variables with this prefix that are not configuration keys. */
const NON_CONFIG_ENV = new Set(["REMPART_CONFIG"]);

function coerce(name: string, raw: string, kind: string): unknown {
  switch (kind) {
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new ConfigError(name, `expected a number, got "${raw}"`);
      return n;
    }
    case "boolean":
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      throw new ConfigError(name, `expected true or false, got "${raw}"`);
    case "array":
      // A JSON array, or a comma-separated list for the common case of plain strings.
      if (raw.trim().startsWith("[")) {
        try {
          return JSON.parse(raw) as unknown;
        } catch {
          throw new ConfigError(name, "expected a JSON array or a comma-separated list");
        }
      }
      return raw.split(",").map((x) => x.trim()).filter((x) => x !== "");
    default:
      return raw;
  }
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const leaves = new Map<string, ConfigLeaf>(configLeaves().map((l) => [envName(l.path), l]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("REMPART_") || value === undefined || NON_CONFIG_ENV.has(name)) continue;
    if (name.startsWith("REMPART_TEST_")) continue; // the test harness's own variables
    const leaf = leaves.get(name);
    if (!leaf) throw new ConfigError(name, "unknown configuration key");
    setPath(raw, leaf.path, coerce(name, value, leaf.kind));
  }
  if (env.DATABASE_URL && env.REMPART_DATABASE === undefined) raw.database = env.DATABASE_URL;
  return raw;
}

export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("config file", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ConfigError("config file", `${path} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError("config file", `${path} must be a YAML mapping`);
  return doc as Record<string, unknown>;
}

/** Validates a raw configuration object and fills derived defaults. */
export function resolveConfig(raw: Record<string, unknown>): ResolvedConfig {
  const result = configSchema.strict().safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let key = issue.path.join(".");
    let problem = issue.message;
    if (issue.code === "unrecognized_keys") {
      key = [...issue.path, ...issue.keys].join(".");
      problem = "unknown configuration key";
    }
    throw new ConfigError(key || "(root)", problem);
  }
  const c = result.data;
  for (const section of ["password_hashing", "rate_limiting"] as const) {
    const r = (raw as Record<string, unknown>)[section];
    if (r !== undefined && (typeof r !== "object" || r === null)) throw new ConfigError(section, "expected a mapping");
  }
  const publicBaseurl = (c.public_baseurl ?? `http://${c.listen}/`).replace(/\/?$/, "/");
  const database = c.database ?? join(c.data_dir, "rempart.db");
  return { ...c, data_dir: resolve(c.data_dir), public_baseurl: publicBaseurl, database };
}

export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.REMPART_CONFIG;
  const raw = file ? readConfigFile(file) : {};
  return resolveConfig(applyEnv(raw, env));
}

