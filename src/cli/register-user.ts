// `rempart register-user`: create an account directly in the database (works whether or not the
// server is running; SQLite is in WAL mode and PostgreSQL is shared).
import { createInterface } from "node:readline";
import type { ResolvedConfig } from "../config/schema.js";
import { createLogger } from "../log.js";
import { createApp } from "../app.js";
import { MatrixError } from "../http/errors.js";
import { optString, type Args } from "./args.js";

async function promptPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    // Piped: the first line of standard input is the password.
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) return line;
    return "";
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
  out._writeToOutput = (s: string) => {
    if (s.startsWith("Password")) out.output.write(s);
  };
  const answer = await new Promise<string>((res) => rl.question("Password: ", res));
  rl.close();
  process.stdout.write("\n");
  return answer;
}

export async function registerUser(config: ResolvedConfig, args: Args): Promise<number> {
  const localpart = args.positional[0] ?? optString(args, "user");
  if (!localpart) {
    process.stderr.write("usage: rempart register-user <localpart> [--password P] [--admin]\n");
    return 2;
  }
  const password = optString(args, "password") ?? (await promptPassword());
  const app = await createApp(config, createLogger("warn"));
  try {
    const userId = await app.accounts.createUser(localpart.replace(/^@/, "").split(":")[0]!.toLowerCase(), password, { admin: args.options.admin === true });
    process.stdout.write(`created ${userId}${args.options.admin === true ? " (server admin)" : ""}\n`);
    return 0;
  } catch (e) {
    if (e instanceof MatrixError) {
      process.stderr.write(`rempart: ${e.errcode}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await app.close();
  }
}
