// Older clients (matrix-nio, quaternion, Net::Async::Matrix) still call /_matrix/client/r0/...:
// serve those as aliases of v3, except for endpoints that never existed in r0.
const V3_ONLY = [/^refresh\b/, /^rooms\/[^/]+\/(timestamp_to_event|threads|knock)\b/, /^knock\//, /^register\/m\.login\.registration_token/];

export function r0Alias(url: string): string {
  if (!url.startsWith("/_matrix/client/r0/")) return url;
  const rest = url.slice("/_matrix/client/r0/".length);
  if (V3_ONLY.some((re) => re.test(rest))) return url;
  return `/_matrix/client/v3/${rest}`;
}
