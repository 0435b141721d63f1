import { ClairError } from '../model/errors.ts';

// Listen addresses as Clair writes them (Go's net.Listen): "host:port", ":port" for every interface,
// "[::1]:port" for an IPv6 host. Port 0 asks the system for a free port (tests).

export function parseListenAddress(addr: string, key: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ClairError('bad-input', `${key}: ${JSON.stringify(addr)} is not a listen address (expected host:port, :port or [ipv6]:port)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}
