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
  server_notices: z
    .object({
      localpart: z.string().regex(/^[a-z0-9._=\-/+]+$/, "expected a user localpart").default("server").describe("Localpart of the user that sends server notices (created on first use)."),
      display_name: z.string().default("Server Notices").describe("Display name of the server notices user."),
      room_name: z.string().default("Server Notices").describe("Name of the notices room created for each user."),
      auto_join: z.boolean().default(false).describe("Join the user to their notices room (default: invite them, as Synapse does)."),
    })
    .prefault({})
    .describe("Server notices sent by admins (POST /_synapse/admin/v1/send_server_notice)."),
});

export type Config = z.infer<typeof configSchema>;

/** The configuration with every derived default filled in. */
export interface ResolvedConfig extends Config {
  public_baseurl: string;
  database: string;
}
