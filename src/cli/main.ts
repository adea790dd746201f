// The `rempart` command.
import { writeFileSync, existsSync } from "node:fs";
import { loadConfig, ConfigError } from "../config/load.js";
import { configurationReference, sampleConfig } from "../config/reference.js";
import { parseArgs, optString, type Args } from "./args.js";

// Each command's code is imported when the command runs: in the bundle (scripts/bundle.js) every
// dynamic import() becomes its own chunk, so `start` never compiles the forensics or audit tools,
// and the tools never compile the HTTP server (docs/architecture.md "Start-up and idle memory").

const USAGE = `usage: rempart <command> [options]

commands:
  start [--config FILE]              run the server (default configuration: SQLite under ./data)
  generate-config [--server-name N] [--output FILE]
                                     write a commented configuration file
  register-user <localpart> [--password P] [--admin] [--config FILE]
                                     create an account (prompts for the password when omitted)
  config-reference [--output FILE]   write the configuration reference (docs/configuration.md)
  audit verify [--config FILE]       check the audit trail: exit 0 intact, 1 tampered (names the first bad record)
  audit prune [--config FILE]        prune audit records past the retention period, up to a signed checkpoint
  forensics --user @x:server | --room !id [--event $id] | --event $id
            [--since T] [--until T] [--format md|json|csv] [--config FILE]
                                     forensic report from the verified audit trail (exit 1: trail did not verify)
`;

export async function main(argv: string[]): Promise<number | void> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  try {
    switch (command) {
      case "start":
        return await (await import("./start.js")).startServer(loadConfigFrom(args));
      case "generate-config":
        return writeOut(args, sampleConfig({ serverName: optString(args, "server-name") }), false);
      case "config-reference":
        return writeOut(args, configurationReference(), true);
      case "register-user":
        return await (await import("./register-user.js")).registerUser(loadConfigFrom(args), args);
      case "audit":
        return await (await import("./audit.js")).auditCommand(loadConfigFrom(args), args);
      case "forensics":
        return await (await import("./forensics.js")).forensicsCommand(loadConfigFrom(args), args);
      case undefined:
      case "help":
      case "--help":
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(`rempart: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`rempart: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function loadConfigFrom(args: Args) {
  return loadConfig({ file: optString(args, "config") });
}

function writeOut(args: Args, text: string, overwrite: boolean): number {
  const out = optString(args, "output");
  if (!out) {
    process.stdout.write(text);
    return 0;
  }
  if (!overwrite && existsSync(out) && !args.options.force) {
    process.stderr.write(`rempart: ${out} exists; use --force to overwrite\n`);
    return 1;
  }
  writeFileSync(out, text, { mode: 0o600 });
  process.stderr.write(`wrote ${out}\n`);
  return 0;
}
