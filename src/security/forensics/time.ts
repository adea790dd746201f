// Report periods: UTC milliseconds since the epoch, or an ISO 8601 date/time ("2026-06-01",
// "2026-06-01T12:00:00Z").
export function parseTime(v: string): number | undefined {
  if (/^\d{1,16}$/.test(v)) return Number(v);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}
