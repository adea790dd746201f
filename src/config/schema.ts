// The one configuration schema (DESIGN.md invariant 6). Every key has a description: the
// reference in docs/configuration.md and the commented file written by `rempart generate-config`
// are both generated from this file, so they cannot drift from what the server accepts.
import { z } from "zod";

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected "host:port", e.g. "127.0.0.1:8008"');

const durationMs = z.number().int().nonnegative();

export const configSchema = z.object({
  server_name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.\-:[\]]+$/, "expected a DNS name or IP literal, optionally with :port")
    .default("localhost")
    .describe("The domain part of every user id (@user:server_name). Cannot change once users exist."),
  listen: hostPort.default("127.0.0.1:8008").describe("Address and port the HTTP server listens on."),
  public_baseurl: z
    .url()
    .optional()
    .describe("URL clients use to reach this server (advertised in /.well-known). Defaults to http://<listen>/."),
  data_dir: z
    .string()
    .min(1)
    .default("./data")
    .describe("Directory for the signing key, the SQLite database and media."),
  database: z
    .string()
    .optional()
    .describe(
      "SQLite file path (default <data_dir>/rempart.db) or a postgres:// URL. DATABASE_URL is honoured too.",
    ),
  log_level: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("Minimum level of the JSON log lines written to standard output."),
  enable_registration: z
    .boolean()
    .default(false)
    .describe("Let anyone register through /register. Off by default: accounts are created by admins."),
  registration_requires_token: z
    .boolean()
    .default(false)
    .describe("With registration enabled, require an admin-issued registration token (m.login.registration_token)."),
  registration_shared_secret: z
    .string()
    .min(16, "must be at least 16 characters")
    .optional()
    .describe("Secret for Synapse-compatible shared-secret registration (/_synapse/admin/v1/register, register-user)."),
  allow_access_token_in_query: z
    .boolean()
    .default(true)
    .describe("Accept ?access_token= in the query string (deprecated by the spec; some clients still use it)."),
  max_request_body_bytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe("Largest JSON request body accepted; larger bodies get 413 M_TOO_LARGE."),
  access_token_lifetime_ms: durationMs
    .default(5 * 60 * 1000)
    .describe("Lifetime of access tokens issued with a refresh token (clients that send refresh_token: true)."),
  password_hashing: z
    .object({
      memory_kib: z.number().int().min(1024).default(19456).describe("argon2id memory cost in KiB (OWASP: 19 MiB)."),
      time_cost: z.number().int().min(1).default(2).describe("argon2id iterations."),
      parallelism: z.number().int().min(1).default(1).describe("argon2id lanes."),
    })
    .prefault({})
    .describe("argon2id parameters for new password hashes; existing hashes keep theirs."),
  rate_limiting: z
    .object({
      enabled: z.boolean().default(true).describe("Apply the rate limits below."),
      login_per_second: z.number().positive().default(0.2).describe("Sustained /login attempts per second per IP."),
      login_burst: z.number().int().positive().default(5).describe("Burst of /login attempts per IP."),
      register_per_second: z.number().positive().default(0.2).describe("Sustained /register calls per second per IP."),
      register_burst: z.number().int().positive().default(5).describe("Burst of /register calls per IP."),
    })
    .prefault({})
    .describe("Token-bucket limits; exceeding them gives 429 M_LIMIT_EXCEEDED with Retry-After."),
  media: z
    .object({
      max_upload_bytes: z.number().int().positive().default(20 * 1024 * 1024).describe("Largest file accepted (Tchap: 20 MB); larger uploads get 413 M_TOO_LARGE."),
      allowed_mime_types: z.array(z.string()).default([]).describe('If not empty, only these MIME types may be uploaded ("image/*" wildcards allowed).'),
      denied_mime_types: z.array(z.string()).default([]).describe("MIME types refused at upload (403 M_FORBIDDEN)."),
      max_image_pixels: z.number().int().positive().default(32_000_000).describe("Images with more pixels are not thumbnailed (decompression-bomb guard)."),
      thumbnail_sizes: z
        .array(z.object({ width: z.number().int().positive(), height: z.number().int().positive(), method: z.enum(["crop", "scale"]) }))
        .default([
          { width: 32, height: 32, method: "crop" },
          { width: 96, height: 96, method: "crop" },
          { width: 320, height: 240, method: "scale" },
          { width: 640, height: 480, method: "scale" },
          { width: 800, height: 600, method: "scale" },
        ])
        .describe("Thumbnail sizes served (precomputed at upload); requests get the nearest at least as large."),
      legacy_unauthenticated_before: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}/, "expected an ISO date such as 2026-01-31")
        .optional()
        .describe("Serve the legacy unauthenticated /_matrix/media/v3/download and /thumbnail for media uploaded before this date (off when unset)."),
      url_previews: z.boolean().default(false).describe("URL previews (off, as in Tchap: they make the server fetch arbitrary URLs)."),
    })
    .prefault({})
    .describe("Media repository."),
  antivirus: z
    .object({
      enabled: z.boolean().default(true).describe("Scan every upload with ClamAV (clamd) before anyone may download it."),
      socket: z.string().default("/var/run/clamav/clamd.ctl").describe("clamd's Unix socket (LocalSocket in clamd.conf)."),
      host: z.string().optional().describe("clamd TCP host, used instead of the socket when set."),
      port: z.number().int().positive().default(3310).describe("clamd TCP port."),
      fail_open: z.boolean().default(false).describe("Serve files when the scanner is unreachable (default: refuse with 503 until a scan succeeds)."),
      timeout_ms: z.number().int().positive().default(30_000).describe("Time allowed for one scan."),
    })
    .prefault({})
    .describe("Antivirus gate for media."),
  default_room_version: z
    .enum(["10", "11", "12"])
    .default("10")
    .describe("Room version of new rooms when the client does not ask for one."),
  policy: z
    .object({
      enabled: z.boolean().default(false).describe("Apply the government (Tchap) model: email→server mapping, externals, room access rules, forums, user directory limits."),
      email_rules: z
        .array(
          z.object({
            pattern: z
              .string()
              .min(1)
              .refine((p) => {
                try {
                  new RegExp(p, "i");
                  return true;
                } catch {
                  return false;
                }
              }, "not a valid regular expression")
              .describe("Regular expression matched (case-insensitively) against the email's domain."),
            server: z.string().min(1).describe("Homeserver for matching addresses."),
            new_server: z.string().optional().describe("Set when matching addresses moved: answered as new_hs by /info."),
          }),
        )
        .default([])
        .describe("Ordered email domain rules → homeserver; the first match wins, unmatched addresses go to the externals' server."),
      externals_server: z.string().optional().describe("Homeserver of externals (unmatched addresses). Defaults to server_name: externals then live here with an external flag."),
      email_registration: z.boolean().default(true).describe("With the policy enabled, registration requires a proven email (m.login.email.identity)."),
      localpart: z.enum(["derived", "opaque"]).default("opaque").describe('User ids of email registrations: "derived" from the email (john.doe-example.com, as Tchap) or "opaque" (random, the email stays private).'),
      lock_displayname: z.boolean().default(false).describe("Refuse display name changes: names stay `First Last [Organisation]` as derived from the email."),
      tchap_power_levels: z.boolean().default(true).describe("Default power levels of new rooms as in Tchap: invite 50, kick/ban/redact 50, state_default 100."),
      user_directory_all_local: z.boolean().default(true).describe("User search also finds users of this server who share no room with the searcher (never externals, never red-listed users)."),
      email_token_lifetime_ms: durationMs.default(60 * 60 * 1000).describe("Validity of an emailed validation code or link."),
      smtp: z
        .object({
          host: z.string().default("localhost").describe("SMTP server host."),
          port: z.number().int().positive().default(587).describe("SMTP server port."),
          secure: z.boolean().default(false).describe("Connect with TLS from the start (port 465); otherwise STARTTLS when offered."),
          require_tls: z.boolean().default(true).describe("Refuse to send unless the connection is encrypted (STARTTLS or TLS)."),
          user: z.string().optional().describe("SMTP user name."),
          password: z.string().optional().describe("SMTP password."),
          from: z.string().default("Rempart <noreply@localhost>").describe("From address of the mails this server sends."),
          language: z.enum(["fr", "en"]).default("fr").describe("Language of the mail templates."),
        })
        .prefault({})
        .describe("Outgoing mail (validation codes, renewal links)."),
      account_validity: z
        .object({
          enabled: z.boolean().default(false).describe("Accounts expire unless renewed by email."),
          period_ms: durationMs.default(180 * 24 * 3600 * 1000).describe("Validity period of an account (renewal extends it by this much)."),
          renew_before_ms: durationMs.default(7 * 24 * 3600 * 1000).describe("The renewal mail is sent this long before expiry."),
          deactivate_after_ms: durationMs.default(0).describe("Deactivate accounts expired for this long (0: never)."),
          sweep_interval_ms: durationMs.default(60 * 60 * 1000).describe("How often the server sends renewal mails and deactivates long-expired accounts."),
        })
        .prefault({})
        .describe("Account validity (Synapse's account_validity)."),
    })
    .prefault({})
    .describe("The government directory model (docs/government-model.md)."),
});

export type Config = z.infer<typeof configSchema>;

/** The configuration with every derived default filled in. */
export interface ResolvedConfig extends Config {
  public_baseurl: string;
  database: string;
}
