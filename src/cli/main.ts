// The `rempart` command.
import { writeFileSync, existsSync } from "node:fs";
import { loadConfig, ConfigError } from "../config/load.js";
import { configurationReference, sampleConfig } from "../config/reference.js";
import { parseArgs, optString, type Args } from "./args.js";
import { startServer } from "./start.js";
import { registerUser } from "./register-user.js";
import { auditCommand } from "./audit.js";
import { forensicsCommand } from "./forensics.js";

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
        return await startServer(loadConfigFrom(args));
      case "generate-config":
        return writeOut(args, sampleConfig({ serverName: optString(args, "server-name") }), false);
      case "config-reference":
        return writeOut(args, configurationReference(), true);
      case "register-user":
        return await registerUser(loadConfigFrom(args), args);
      case "audit":
        return await auditCommand(loadConfigFrom(args), args);
      case "forensics":
        return await forensicsCommand(loadConfigFrom(args), args);
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
