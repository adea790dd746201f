// Starts the real server on loopback for integration tests: a fresh data_dir, and a fresh database
// (SQLite file, or a new PostgreSQL database when REMPART_TEST_DATABASE_URL is set).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../../src/config/load.js";
import type { Config, ResolvedConfig } from "../../src/config/schema.js";
import { createApp, type App } from "../../src/app.js";
import { buildServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log.js";
import { freshPostgres } from "./postgres.js";
import type { Logger } from "pino";

export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

export interface TestServer {
  url: string;
  app: App;
  http: FastifyInstance;
  config: ResolvedConfig;
  /** Creates an account directly and logs it in through the HTTP API. */
  user(localpart?: string, opts?: { admin?: boolean; password?: string }): Promise<TestUser>;
  close(): Promise<void>;
  /**
   * Closes this server (data kept) and starts a new app on the same data_dir and database, as a
   * process restart would; the returned server owns the data from then on.
   */
  restart(): Promise<TestServer>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

type Overrides = Partial<Omit<Config, "password_hashing" | "rate_limiting" | "read_gate" | "login_security">> & {
  /** Read gate settings (thresholds, allowlist…), merged over the defaults by the schema. */
  read_gate?: DeepPartial<Config["read_gate"]>;
  login_security?: Partial<Config["login_security"]>;
  password_hashing?: Partial<Config["password_hashing"]>;
  rate_limiting?: Partial<Config["rate_limiting"]>;
  /** The server's logger (e.g. `createLogger("debug", stream)` to capture what it logs). */
  log?: Logger;
  /** The server's clock (createApp `now`), for tests that move time. */
  now?: () => number;
};

/** A fresh PostgreSQL database for one test server; dropped on close. */
let counter = 0;

/** What a restarted server takes over from the previous one. */
interface Reuse {
  dataDir: string;
  pgDb?: { url: string; drop: () => Promise<void> };
}

export async function startTestServer(allOverrides: Overrides = {}, reuse?: Reuse): Promise<TestServer> {
  const { log, now, ...overrides } = allOverrides;
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), "rempart-test-"));
  const pgUrl = process.env.REMPART_TEST_DATABASE_URL;
  const pgDb = reuse ? reuse.pgDb : pgUrl ? await freshPostgres(pgUrl) : undefined;
  const config = resolveConfig({
    server_name: "rempart.test",
    listen: "127.0.0.1:0",
    data_dir: dataDir,
    log_level: process.env.REMPART_TEST_LOG_LEVEL ?? "silent",
    enable_registration: true,
    ...(pgDb ? { database: pgDb.url } : {}),
    ...overrides,
    // Cheap hashing keeps tests fast; the production defaults are measured in bench/.
    password_hashing: { memory_kib: 1024, time_cost: 1, parallelism: 1, ...overrides.password_hashing },
    rate_limiting: { enabled: false, ...overrides.rate_limiting },
    // Test admins log in with a password through user(); tests of the admin MFA rule turn it back on.
    // Alerts create a notices room per user: only the tests about them turn them on.
    login_security: { mfa_required_for_admins: false, new_login_alerts: false, ...overrides.login_security },
  });
  const app = await createApp(config, log ?? createLogger(config.log_level), now ? { now } : {});
  const http = await buildServer(app);
  await http.listen({ host: "127.0.0.1", port: 0 });
  const addr = http.server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    app,
    http,
    config,
    async user(localpart, opts = {}) {
      const name = localpart ?? `user${++counter}_${randomBytes(3).toString("hex")}`;
      const password = opts.password ?? `pw-${randomBytes(8).toString("hex")}`;
      await app.accounts.createUser(name, password, { admin: opts.admin });
      const res = await fetch(`${url}/_matrix/client/v3/login`, {
        method: "POST",
        body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: name }, password }),
      });
      const body = (await res.json()) as { user_id: string; access_token: string; device_id: string };
      if (res.status !== 200) throw new Error(`login failed: ${JSON.stringify(body)}`);
      return { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id, password };
    },
    async close() {
      await http.close();
      await app.close();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await http.close();
      await app.close();
      return startTestServer(allOverrides, { dataDir, pgDb });
    },
  };
}
