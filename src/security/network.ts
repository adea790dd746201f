// The network an address belongs to, for "new network" alerts and per-network limits: an IPv4 /24
// or an IPv6 /64 (IPv4-mapped IPv6 addresses count as IPv4).
import { isIPv4, isIPv6 } from "node:net";

export function networkOf(ip: string): string {
  const v4 = ip.startsWith("::ffff:") && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(v4)) return `${v4.split(".").slice(0, 3).join(".")}.0/24`;
  if (isIPv6(ip)) {
    const [head, tail] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
    const full = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    return `${full.slice(0, 4).map((x) => parseInt(x || "0", 16).toString(16)).join(":")}::/64`;
  }
  return ip;
}
