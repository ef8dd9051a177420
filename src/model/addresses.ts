// IP address and CIDR checks for Service cluster IPs, Endpoints, host aliases, DNS servers and
// node pod CIDRs. bramble's networks are IPv4 only (DESIGN: 10.42.0.0/16, 10.43.0.0/16).
import { isIP, isIPv4 } from 'node:net';

/** Dotted-quad IPv4 without leading zeros (node:net refuses those, as Kubernetes now does). */
export function checkIPv4(value: string): string | null {
  return isIPv4(value) ? null : 'must be a valid IPv4 address (e.g. 10.9.8.7)';
}

/** IPv4 or IPv6: host aliases and DNS servers may name either. */
export function checkIP(value: string): string | null {
  return isIP(value) !== 0 ? null : 'must be a valid IP address (e.g. 10.9.8.7 or 2001:db8::ffff)';
}

/** `10.42.1.0/24`: an IPv4 network address with a prefix length. */
export function checkIPv4Cidr(value: string): string | null {
  const message = 'must be a valid IPv4 CIDR (e.g. 10.42.1.0/24)';
  const slash = value.indexOf('/');
  if (slash < 0) return message;
  const ip = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!isIPv4(ip) || !/^(3[0-2]|[12]?[0-9])$/.test(bits)) return message;
  return null;
}
