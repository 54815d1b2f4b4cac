import { readFile } from 'node:fs/promises';

/**
 * Whether something listens on TCP `port` (any local address), read from the kernel's socket
 * tables rather than by connecting: a probe connection would itself count as a client, and a fast
 * probe of a closed port can connect to itself. Linux only.
 */
export async function isListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue; // no IPv6 here
    }
    // "sl local_address rem_address st ...": local address is HEXIP:HEXPORT, state 0A is LISTEN
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) return true;
    }
  }
  return false;
}
