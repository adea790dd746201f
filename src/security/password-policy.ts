// The password policy of NIST SP 800-63B-4 (§ 3.1.1.2, "Password verifiers"): a length floor (15
// when the password is the only factor, 8 when a second factor is required), at least 64
// characters accepted (we take 512), no composition rules, and a blocklist: the breached passwords
// shipped in data/common-passwords.txt.gz (see data/README.md for its origin and licence) and the
// words of the context (the service, the organisation, the user's own localpart, name and email).
// The list is kept as one sorted buffer with a binary search: ~5 MB instead of ~30 MB for a Set.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { MatrixError } from "../http/errors.js";
import { MAX_PASSWORD_LENGTH } from "../accounts/passwords.js";

export interface PasswordContext {
  localpart?: string;
  displayname?: string | null;
  email?: string | null;
  /** True when the account must use a second factor: the floor is then the lower one. */
  mfa: boolean;
}

export interface PasswordPolicyConfig {
  password_min_length: number;
  password_min_length_with_mfa: number;
  password_context_words: string[];
}

export const weakPassword = (msg: string) => new MatrixError(400, "M_WEAK_PASSWORD", msg);

const normalise = (s: string) => s.normalize("NFKC").toLowerCase();

function findDataFile(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, "data", name);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error(`data/${name} not found`);
}

/** A sorted newline-separated list searched in place. */
class SortedList {
  private readonly buf: Buffer;
  private readonly starts: Uint32Array;

  constructor(buf: Buffer) {
    this.buf = buf;
    let n = 0;
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10) n++;
    this.starts = new Uint32Array(n + 1);
    let k = 0;
    this.starts[k++] = 0;
    for (let i = 0; i < buf.length; i++) if (buf[i] === 10 && k <= n) this.starts[k++] = i + 1;
  }

  get size(): number {
    return this.starts.length - 1;
  }

  has(word: string): boolean {
    const target = Buffer.from(word, "utf8");
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = this.starts[mid]!;
      const end = this.starts[mid + 1]! - 1;
      const c = Buffer.compare(this.buf.subarray(start, end), target);
      if (c === 0) return true;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

let shared: SortedList | undefined;
/** The breached-password list, loaded once per process (~150 ms) on first use. */
export function commonPasswords(): SortedList {
  return (shared ??= new SortedList(gunzipSync(readFileSync(findDataFile("common-passwords.txt.gz")))));
}

export class PasswordPolicy {
  constructor(
    private readonly config: PasswordPolicyConfig,
    private readonly serverName: string,
  ) {}

  /** Throws 400 M_WEAK_PASSWORD with a message saying what to do. */
  check(password: string, ctx: PasswordContext): void {
    const min = ctx.mfa ? this.config.password_min_length_with_mfa : this.config.password_min_length;
    const length = [...password].length;
    if (length < min) {
      throw weakPassword(`Your password must have at least ${min} characters. A few unrelated words make a long password easy to remember.`);
    }
    if (password.length > MAX_PASSWORD_LENGTH) throw weakPassword(`Your password must have at most ${MAX_PASSWORD_LENGTH} characters.`);
    const p = normalise(password);
    if (commonPasswords().has(p)) throw weakPassword("This password appears in lists of breached passwords: choose another one.");
    if (new Set(p).size < 4) throw weakPassword("This password repeats too few characters: choose another one.");
    const words = this.contextWords(ctx);
    let rest = p;
    for (const w of words) rest = rest.split(w).join("");
    if (rest !== p && (rest.length < 10 || new Set(rest).size < 5)) {
      throw weakPassword("This password is built from your user name, your name, your email or the service's name: choose another one.");
    }
  }

  private contextWords(ctx: PasswordContext): string[] {
    const words = [...this.config.password_context_words, this.serverName, ...this.serverName.split(/[.:]/)];
    if (ctx.localpart) words.push(ctx.localpart, ...ctx.localpart.split(/[._=\-/+]/));
    if (ctx.displayname) words.push(ctx.displayname, ...ctx.displayname.split(/\s+/));
    if (ctx.email) words.push(ctx.email, ...ctx.email.split(/[@.]/));
    // Long words first so that "alice.martin" goes before "alice"; short fragments are ignored.
    return [...new Set(words.map(normalise).filter((w) => w.length >= 3))].sort((a, b) => b.length - a.length);
  }
}
