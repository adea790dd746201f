// Generates the configuration reference (docs/configuration.md) and the commented sample file
// written by `rempart generate-config`, both from the schema.
import { randomBytes } from "node:crypto";
import { configLeaves, envName, sectionDescription } from "./walk.js";

const show = (v: unknown): string => (v === undefined ? "—" : JSON.stringify(v));

export function configurationReference(): string {
  const lines = [
    "# Configuration reference",
    "",
    "<!-- Generated from src/config/schema.ts by `rempart config-reference`; do not edit by hand. -->",
    "",
    "Rempart reads, in this order, each overriding the previous: the defaults below, the YAML file given",
    "with `--config FILE` (or `REMPART_CONFIG`), then environment variables. Every key can be set from",
    "the environment as `REMPART_<KEY>`, nested keys joined by `__` (for example",
    "`REMPART_PASSWORD_HASHING__MEMORY_KIB=65536`). `DATABASE_URL` is honoured as `database`.",
    "An invalid configuration prints one line naming the key and the problem, and exits with status 2.",
    "",
    "| key | environment variable | type | default | description |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const leaf of configLeaves()) {
    const type = leaf.choices ? leaf.choices.map((c) => `\`${c}\``).join(" \\| ") : leaf.kind;
    lines.push(
      `| \`${leaf.path.join(".")}\` | \`${envName(leaf.path)}\` | ${type} | ${show(leaf.defaultValue).replace(/\|/g, "\\|")} | ${leaf.description} |`,
    );
  }
  return lines.join("\n") + "\n";
}

export function sampleConfig(opts: { serverName?: string } = {}): string {
  const out = [
    "# Rempart configuration. Every key is optional; commented keys show their default.",
    "# Reference: docs/configuration.md. Environment variables REMPART_<KEY> override this file.",
    "",
  ];
  let section = "";
  for (const leaf of configLeaves()) {
    const indent = leaf.path.length > 1 ? "  " : "";
    if (leaf.path.length > 1 && leaf.path[0] !== section) {
      section = leaf.path[0]!;
      out.push(`# ${sectionDescription(section)}`, `${section}:`);
    }
    const key = leaf.path[leaf.path.length - 1]!;
    out.push(`${indent}# ${leaf.description}`);
    if (key === "server_name") {
      out.push(`${indent}server_name: ${JSON.stringify(opts.serverName ?? "localhost")}`);
    } else if (key === "registration_shared_secret") {
      out.push(`${indent}registration_shared_secret: ${JSON.stringify(randomBytes(24).toString("base64url"))}`);
    } else if (leaf.defaultValue === undefined) {
      out.push(`${indent}#${key}:`);
    } else {
      out.push(`${indent}#${key}: ${JSON.stringify(leaf.defaultValue)}`);
    }
    if (leaf.path.length === 1) out.push("");
  }
  return out.join("\n") + "\n";
}
