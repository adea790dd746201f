// What request URLs look like in logs: secrets masked (DESIGN.md invariant 5).

/** Query parameters whose values are secrets: ?access_token=, the registration token of
 * /register/m.login.registration_token/validity?token=, and anything named like a password or key;
 * and personal data: the email address of the identity lookup (/_matrix/identity/api/v1/info). */
const SECRET_QUERY_NAME = /token|password|secret|mac|key|auth|address|email/i;

/** Paths that carry a secret as a path segment (admin operations on a registration token). */
const SECRET_PATH = /^(\/_synapse\/admin\/v1\/registration_tokens\/)(?!new(?:[/?]|$))[^/?]+/;

/** The URL with secrets masked. Query names are judged decoded too, because the query parser
 * decodes them (`?%61ccess_token=` is an access token), and undecodable names are masked. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  const path = (q < 0 ? url : url.slice(0, q)).replace(SECRET_PATH, "$1<redacted>");
  if (q < 0) return path;
  const query = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const raw = pair.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, " "));
      } catch {
        return `${raw}=<redacted>`;
      }
      return SECRET_QUERY_NAME.test(name) ? `${raw}=<redacted>` : pair;
    })
    .join("&");
  return `${path}?${query}`;
}
