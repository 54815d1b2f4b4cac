import { readFile } from 'node:fs/promises';

// The kernel's socket tables, read by both runtimes: the process runtime finds the port an app's
// processes listen on, the Docker runtime the port an app listens on inside its container.

/** A TCP socket in the LISTEN state, from the kernel's table (`/proc/<pid>/net/tcp` or `tcp6`). */
export interface ListeningSocket {
  port: number;
  /** The socket's inode: `/proc/<pid>/fd/*` links to `socket:[<inode>]` in every process that holds it. */
  inode: number;
}

/** The kernel's code for TCP_LISTEN in the `st` column. */
const LISTEN = '0A';

/**
 * Parses a `/proc/net/tcp` or `tcp6` table: a header, then one line per socket,
 * "sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...",
 * the local address as hex `ADDRESS:PORT`. Only listening sockets are kept.
 */
export function parseListeningSockets(table: string): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [, local, , state, , , , , , inodeText] = fields;
    if (state !== LISTEN || local === undefined || inodeText === undefined) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const inode = Number(inodeText);
    if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(inode) || inode <= 0) continue;
    sockets.push({ port, inode });
  }
  return sockets;
}

/**
 * The listening TCP sockets (IPv4 and IPv6) of the network namespace `pid` lives in; `self` for
 * the caller's own. Reading through a pid rather than `/proc/net` keeps it right for a process in
 * another namespace (a container). Empty where /proc cannot be read (not Linux, not allowed).
 */
export async function listeningSockets(pid: number | 'self' = 'self'): Promise<ListeningSocket[]> {
  const tables = await Promise.all(['tcp', 'tcp6'].map((name) => readFile(`/proc/${String(pid)}/net/${name}`, 'utf8').catch(() => '')));
  return tables.flatMap(parseListeningSockets);
}
