// Email → homeserver mapping (docs/government-model.md "Who may have an account, and where"):
// ordered domain rules, the first match wins, anything unmatched belongs to the externals' server.
// Also the identity Tchap derives from an email: localpart and `First Last [Organisation]`.

export interface EmailRule {
  pattern: string;
  server: string;
  new_server?: string;
}

export interface EmailMapping {
  /** The homeserver the address belongs to. */
  hs: string;
  /** Set when addresses of this rule moved to another server. */
  new_hs?: string;
  /** True when no rule matched: the address is an external's. */
  external: boolean;
}

// A practical address grammar (not RFC 5322's): one @, no spaces, a dotted domain.
const EMAIL = /^[^\s@]{1,64}@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/;

/** The canonical form of an address (trimmed, lower-cased), or undefined if it is not one. */
export function normaliseEmail(address: string): string | undefined {
  const a = address.trim().toLowerCase();
  return a.length <= 254 && EMAIL.test(a) ? a : undefined;
}

export class EmailMapper {
  private readonly compiled: { re: RegExp; rule: EmailRule }[];

  constructor(
    rules: EmailRule[],
    private readonly externalsServer: string,
  ) {
    // An invalid pattern fails at start-up, not on the first registration.
    this.compiled = rules.map((rule) => {
      try {
        return { re: new RegExp(rule.pattern, "i"), rule };
      } catch {
        throw new Error(`invalid configuration: policy.email_rules: bad pattern ${JSON.stringify(rule.pattern)}`);
      }
    });
  }

  /** Maps a normalised address to its homeserver. */
  map(email: string): EmailMapping {
    const domain = email.slice(email.lastIndexOf("@") + 1);
    for (const { re, rule } of this.compiled) {
      if (re.test(domain)) return rule.new_server ? { hs: rule.server, new_hs: rule.new_server, external: false } : { hs: rule.server, external: false };
    }
    return { hs: this.externalsServer, external: true };
  }
}

/**
 * Tchap's localpart: the address with "@" replaced by "-" (john.doe@example.com →
 * john.doe-example.com). Characters outside the localpart grammar become "_".
 */
export function derivedLocalpart(email: string): string {
  return email.toLowerCase().replace("@", "-").replace(/[^a-z0-9._=\-/+]/g, "_");
}

const capitalise = (w: string) => w.split("-").map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : p)).join("-");

/** `First Last [Organisation]`: names from the local part, the organisation from the domain's first label. */
export function derivedDisplayName(email: string): string {
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at).split("+")[0]!;
  const domain = email.slice(at + 1);
  const names = local.split(/[._]/).filter((x) => x !== "").map(capitalise).join(" ");
  const org = capitalise(domain.split(".")[0]!);
  return `${names || local} [${org}]`;
}
