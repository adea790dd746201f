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
  search: z
    .object({
      index_interval_ms: z
        .number()
        .int()
        .positive()
        .default(250)
        .describe(
          "SQLite: new events enter the full-text search index in batches written at most this often (one FTS5 commit per batch instead of one per message: ~15 % of a message send's CPU). Searches write the pending batch first; after a crash the lost batch is rebuilt from the stored events at start. PostgreSQL indexes each event in its own transaction.",
        ),
    })
    .prefault({})
    .describe("Server-side search (POST /search)."),
  txn_ids: z
    .object({
      retention_hours: z
        .number()
        .positive()
        .default(24)
        .describe("How long a send's transaction id (PUT /rooms/{roomId}/send/{type}/{txnId}, /redact) is remembered: a retry within it returns the first event and stores nothing; a retry later is a new send (Synapse keeps them 24 hours too). Older ones are pruned every hour."),
    })
    .prefault({})
    .describe("Idempotent sends (client-server API \"Transaction identifiers\")."),
  push: z
    .object({
      enabled: z.boolean().default(true).describe("Send notifications to the push gateways of users' HTTP pushers."),
      allow_http: z.boolean().default(false).describe("Accept pusher URLs over plain http (local gateways and tests only: the spec says never over HTTP)."),
      timeout_ms: z.number().int().positive().default(10_000).describe("Time allowed for one request to a push gateway."),
      max_attempts: z.number().int().min(1).max(20).default(6).describe("Attempts per notification before it is dropped (network errors, 5xx, 429)."),
      retry_base_ms: z.number().int().positive().default(1000).describe("First retry delay; each further retry doubles it, up to retry_max_ms."),
      retry_max_ms: z.number().int().positive().default(60_000).describe("Longest delay between two attempts."),
    })
    .prefault({})
    .describe("Push notifications (pushers and the push gateway API)."),
  login_security: z
    .object({
      mfa: z
        .enum(["required", "optional", "off"])
        .default("optional")
        .describe("Second factor policy: required for everyone (m.login.password is then refused), optional (required once a user enrolled one), or off."),
      mfa_required_for_admins: z.boolean().default(true).describe("Server admins must use a second factor even when `mfa` is optional."),
      password_min_length: z.number().int().min(8).default(15).describe("Minimum password length when the password is the only factor (NIST SP 800-63B-4: 15)."),
      password_min_length_with_mfa: z.number().int().min(8).default(8).describe("Minimum password length for accounts that must use a second factor (NIST: 8)."),
      password_context_words: z.array(z.string()).default(["rempart", "matrix"]).describe("Words a password may not be built from (service, organisation), besides the user's own id and name."),
      check_password_at_login: z.boolean().default(false).describe("At login, refuse a password that the current policy would refuse (M_WEAK_PASSWORD: the user must set a new one)."),
      pair_failures_before_wait: z.number().int().positive().default(10).describe("Failed logins for one account from one IP before that pair must wait."),
      pair_wait_min_ms: durationMs.default(30_000).describe("First wait of a throttled (account, IP) pair; doubles with each further failure."),
      pair_wait_max_ms: durationMs.default(3_600_000).describe("Longest wait of a throttled (account, IP) pair."),
      account_max_failures: z.number().int().positive().default(100).describe("Consecutive failures after which an account accepts no password guesses until reset or unlock."),
      ip_max_failures_per_day: z.number().int().positive().default(100).describe("Failed logins from one IP in 24 h (across accounts) after which the IP is blocked."),
      stuffing_accounts_per_ip: z.number().int().positive().default(10).describe("Distinct accounts failing from one IP (or one /24, /64 network at twice the count) within an hour that mark credential stuffing."),
      stuffing_global_failure_ratio: z.number().min(0).max(1).default(0.5).describe("Failure ratio of all logins over 5 minutes (with at least 50 failures) that raises the stuffing alarm and tightens the per-IP limit to 3 accounts."),
      stuffing_block_ms: durationMs.default(24 * 3_600_000).describe("How long an IP or network caught stuffing credentials stays blocked."),
      login_token_lifetime_ms: durationMs.default(120_000).describe("Lifetime of the single-use m.login.token issued by the web login."),
      web_session_lifetime_ms: durationMs.default(12 * 3_600_000).describe("Lifetime of a web login session (account page, SSO)."),
      session_idle_timeout_ms: durationMs.default(0).describe("End a client session unused for this long (0: never). Hardened profile: 1 h."),
      session_max_lifetime_ms: durationMs.default(0).describe("End a client session this long after login whatever its use (0: never). Hardened profile: 24 h."),
      new_login_alerts: z.boolean().default(true).describe("Tell users (server notice, email) of logins from a new device or network, new authenticators and password changes."),
    })
    .prefault({})
    .describe("Login security: second factors, password policy, login guard, sessions (docs/login-security.md)."),
  smtp: z
    .object({
      host: z.string().optional().describe("SMTP server for security emails (none sent when unset)."),
      port: z.number().int().positive().default(587).describe("SMTP port."),
      secure: z.boolean().default(false).describe("Use TLS from the start (port 465); otherwise STARTTLS when offered."),
      user: z.string().optional().describe("SMTP login."),
      password: z.string().optional().describe("SMTP password."),
      from: z.string().default("Rempart <noreply@localhost>").describe("Sender of security emails."),
    })
    .prefault({})
    .describe("Outgoing email (nodemailer)."),
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
  read_gate: z
    .object({
      enabled: z.boolean().default(true).describe("Meter reads and apply containment. The audit trail of reads is kept only when enabled (security decisions are always recorded)."),
      allowlist: z.array(z.string()).default([]).describe("User ids (bots, archivers) whose reads are recorded but never metered or contained."),
      window_ms: durationMs.default(60 * 60 * 1000).describe("Sliding window over which every meter counts."),
      history_days: z.number().int().positive().default(90).describe("Events older than this many days count as history, as do events older than the reader's join."),
      initial_sync_free_events: z.number().int().nonnegative().default(50).describe("Per room, the newest events of an initial sync that never count as history (a new device's first sync)."),
      thresholds: z
        .object({
          rooms_joined: z.number().int().positive().default(30).describe("Rooms joined per window."),
          rooms_read: z.number().int().positive().default(150).describe("Distinct rooms read (outside /sync) per window."),
          history_events: z.number().int().positive().default(1200).describe("History events read per window (docs/read-gate.md: 2 × this + a few pages is what a bulk reader gets before the lock)."),
          media_files: z.number().int().positive().default(120).describe("Media files downloaded per window."),
          media_bytes: z.number().int().positive().default(2 * 1024 * 1024 * 1024).describe("Media bytes downloaded per window."),
          directory_queries: z.number().int().positive().default(200).describe("Room and user directory queries (directory searches, alias resolutions, other users' profiles) per window."),
          member_lists: z.number().int().positive().default(100).describe("Member lists fetched per window."),
        })
        .prefault({})
        .describe("Throttle thresholds per account, device and IP; step-up and lock apply at multiples of them."),
      throttles_to_step_up: z.number().int().min(1).default(2).describe("After this many throttles of an account within the window, its next trip steps up (soft logout), however small the excess: a reader who keeps coming back escalates."),
      long_window_ms: durationMs.default(7 * 24 * 60 * 60 * 1000).describe("A second, longer sliding window (per account and device) that catches a reader staying under the hourly thresholds."),
      long_thresholds: z
        .object({
          rooms_joined: z.number().int().positive().default(100).describe("Rooms joined per long window."),
          rooms_read: z.number().int().positive().default(400).describe("Distinct rooms read (outside /sync) per long window."),
          history_events: z.number().int().positive().default(4000).describe("History events read per long window."),
          media_files: z.number().int().positive().default(400).describe("Media files downloaded per long window."),
          media_bytes: z.number().int().positive().default(8 * 1024 * 1024 * 1024).describe("Media bytes downloaded per long window."),
          directory_queries: z.number().int().positive().default(1000).describe("Directory queries per long window."),
          member_lists: z.number().int().positive().default(400).describe("Member lists fetched per long window."),
        })
        .prefault({})
        .describe("Thresholds over long_window_ms (account and device; never per IP), escalating like the hourly ones."),
      ip_threshold_factor: z.number().min(1).default(10).describe("Per-IP thresholds are the thresholds above times this (offices and NAT put many people behind one address); an IP alone is only ever throttled."),
      step_up_factor: z.number().min(1).default(2).describe("At this multiple of a threshold the session is soft-logged-out (step-up re-authentication)."),
      lock_factor: z.number().min(1).default(4).describe("At this multiple of a threshold the account is locked and admins are alerted (as it is at any trip within the window after a step-up)."),
      baseline_factor: z.number().min(0).default(1.5).describe("A user's learned baseline (their highest past window) times this raises their thresholds; 0 turns baselines off."),
      alert_webhook: z.url().optional().describe("URL that receives security alerts as JSON POSTs (containment steps, locks)."),
      audit: z
        .object({
          flush_interval_ms: z.number().int().positive().default(250).describe("Audit records are appended in batches at most this often (a crash loses at most this much of the trail; readers of the trail flush first). 5 ms cost ~14 % on /messages latency, 250 ms ~5 % (bench:gate --flush-ms)."),
          flush_batch: z.number().int().positive().default(500).describe("A batch is written at once when it reaches this many records."),
          checkpoint_interval_ms: z.number().int().positive().default(60_000).describe("A signed checkpoint of the chain is written at least this often while there is activity."),
          retention_days: z.number().int().positive().default(396).describe("Audit records older than this (default ~13 months) are pruned up to a checkpoint, which stays as the anchor."),
          export_file: z.string().optional().describe("Append the trail as OCSF JSON lines to this file."),
          export_url: z.url().optional().describe("POST the trail as batches of OCSF JSON to this URL (an SIEM collector)."),
          export_batch: z.number().int().positive().default(500).describe("Records per exported batch."),
          export_interval_ms: z.number().int().positive().default(5_000).describe("How often new records are exported (failed POSTs are retried on the next round)."),
        })
        .prefault({})
        .describe("The tamper-evident audit trail (docs/read-gate.md)."),
    })
    .prefault({})
    .describe("The read gate: metering, containment and the audit trail of every read (docs/read-gate.md)."),
  server_notices: z
    .object({
      localpart: z.string().regex(/^[a-z0-9._=\-/+]+$/, "expected a user localpart").default("server").describe("Localpart of the user that sends server notices (created on first use)."),
      display_name: z.string().default("Server Notices").describe("Display name of the server notices user."),
      room_name: z.string().default("Server Notices").describe("Name of the notices room created for each user."),
      auto_join: z.boolean().default(false).describe("Join the user to their notices room (default: invite them, as Synapse does)."),
    })
    .prefault({})
    .describe("Server notices sent by admins (POST /_synapse/admin/v1/send_server_notice)."),
  public_rooms: z
    .object({
      newcomer_history: z
        .union([
          z.enum(["all", "since_join"]),
          z.object({ days: z.number().int().positive() }).strict(),
          z.object({ events: z.number().int().positive() }).strict(),
        ])
        .default("all")
        .describe(
          'How much history a member who joins a public room sees: "all" (everything history visibility allows), "since_join" (nothing before their join), { days: N } (the N days before their join) or { events: N } (the N events before their join). Room admins override it with the fr.rempart.newcomer_history state event (docs/rooms.md).',
        ),
    })
    .prefault({})
    .describe("Public rooms (join rule public, forums)."),
});

export type Config = z.infer<typeof configSchema>;

/** The configuration with every derived default filled in. */
export interface ResolvedConfig extends Config {
  public_baseurl: string;
  database: string;
}
