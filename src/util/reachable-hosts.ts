import { networkInterfaces } from 'node:os';

/**
 * The hosts a person can put in a URL to reach a server listening on `host`: the host itself, or
 * for a wildcard bind (0.0.0.0, ::) loopback first and then every external IPv4 address of this
 * machine. A wildcard address in a URL works on some systems and not others, so it is never shown.
 */
export function reachableHosts(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return [host.includes(':') ? `[${host}]` : host];
  const out = ['127.0.0.1'];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}
