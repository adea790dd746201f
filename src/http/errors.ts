// Every failure leaves the server as a Matrix error: {"errcode", "error"} with the right status
// (client-server API "Standard error response"). Services throw MatrixError; the HTTP layer maps
// anything else to 500 M_UNKNOWN without leaking details.

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (msg = "Forbidden") => new MatrixError(403, "M_FORBIDDEN", msg);
export const notFound = (msg = "Not found") => new MatrixError(404, "M_NOT_FOUND", msg);
export const unrecognized = (status = 404, msg = "Unrecognized request") => new MatrixError(status, "M_UNRECOGNIZED", msg);
export const badJson = (msg: string) => new MatrixError(400, "M_BAD_JSON", msg);
export const notJson = (msg = "Request body is not valid JSON") => new MatrixError(400, "M_NOT_JSON", msg);
export const missingParam = (msg: string) => new MatrixError(400, "M_MISSING_PARAM", msg);
export const invalidParam = (msg: string) => new MatrixError(400, "M_INVALID_PARAM", msg);
export const missingToken = () => new MatrixError(401, "M_MISSING_TOKEN", "Missing access token");
export const unknownToken = (softLogout = false, msg = "Unrecognised access token") =>
  new MatrixError(401, "M_UNKNOWN_TOKEN", msg, { soft_logout: softLogout });
export const tooLarge = (msg = "Request body too large") => new MatrixError(413, "M_TOO_LARGE", msg);
export const userInUse = () => new MatrixError(400, "M_USER_IN_USE", "User ID already taken");
export const invalidUsername = (msg: string) => new MatrixError(400, "M_INVALID_USERNAME", msg);
export const userDeactivated = () => new MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated");
export const userLocked = () => new MatrixError(401, "M_USER_LOCKED", "This account has been locked", { soft_logout: true });

/** 429 with both the body field (spec ≤ 1.9 clients) and the Retry-After header (spec 1.10+). */
export function limitExceeded(retryAfterMs: number, msg = "Too many requests"): MatrixError {
  const ms = Math.max(1, Math.ceil(retryAfterMs));
  return new MatrixError(429, "M_LIMIT_EXCEEDED", msg, { retry_after_ms: ms }, { "retry-after": String(Math.ceil(ms / 1000)) });
}
