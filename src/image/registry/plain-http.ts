// Which registries may be reached over plain HTTP. HTTPS is the rule; loopback registries (a registry
// started beside the scanner, the usual `localhost:5000`) are allowed plain HTTP by default, and so are
// the registries the user names (RegistryOptions.insecure), as Docker's insecure-registries does.
// "Allowed" means tried after HTTPS fails to connect, never instead of a working HTTPS.

import { isIP } from 'node:net';

/** true: every registry; string[]: these host[:port] names (a name without port matches every port). */
export type InsecureSetting = boolean | readonly string[];

/** Splits "host:port", "[::1]:5000", "::1" into host and port. */
function splitHostPort(hostPort: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed) return bracketed[2] !== undefined ? { host: bracketed[1]!, port: bracketed[2] } : { host: bracketed[1]! };
  if (isIP(hostPort) === 6) return { host: hostPort };
  const colon = hostPort.lastIndexOf(':');
  return colon < 0 ? { host: hostPort } : { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) };
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

export function plainHttpAllowed(hostPort: string, insecure: InsecureSetting | undefined): boolean {
  const { host } = splitHostPort(hostPort);
  if (isLoopback(host)) return true;
  if (insecure === true) return true;
  if (!insecure) return false;
  const wanted = hostPort.toLowerCase();
  return insecure.some((entry) => {
    const e = entry.toLowerCase().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    return e === wanted || (splitHostPort(e).port === undefined && e === host.toLowerCase());
  });
}
