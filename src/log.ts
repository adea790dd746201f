// Structured JSON logs (pino). Paths that could carry secrets are censored at the logger, as a
// second line of defence behind the rule that routes never log bodies or tokens.
import { pino, type Logger } from "pino";

export const REDACT_PATHS = [
  "password",
  "new_password",
  "access_token",
  "refresh_token",
  "token",
  "mac",
  "auth",
  "*.password",
  "*.access_token",
  "*.refresh_token",
  "*.token",
  "req.headers.authorization",
  "headers.authorization",
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: "<redacted>" }, base: { service: "rempart" }, timestamp: pino.stdTimeFunctions.isoTime },
    destination as pino.DestinationStream | undefined,
  );
}
