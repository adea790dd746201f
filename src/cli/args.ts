// A tiny argument parser: --key value, --key=value, --flag, and positionals.
export interface Args {
  positional: string[];
  options: Record<string, string | true>;
}

export function parseArgs(argv: string[]): Args {
  const out: Args = { positional: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) out.options[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) out.options[a.slice(2)] = argv[++i]!;
      else out.options[a.slice(2)] = true;
    } else out.positional.push(a);
  }
  return out;
}

export const optString = (args: Args, key: string): string | undefined => {
  const v = args.options[key];
  return typeof v === "string" ? v : undefined;
};
