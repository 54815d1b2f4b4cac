import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import type { ServedIdentity } from '@kraken/trust';
import { caDigest, formatJoinToken } from '@kraken/trust';

/** What an agent keeps of the cluster's trust, PEM: the CA, and its own certificate and key from it. */
export interface AgentTls {
  caCert: string;
  cert: string;
  key: string;
}

/** `<dataDir>/tls`: the CA's certificate (which the local `kraken` command trusts) and this agent's own. */
export function tlsDir(dataDir: string): string {
  return path.join(dataDir, 'tls');
}

export const CA_FILE = 'ca.pem';
const CERT_FILE = 'agent.pem';
const KEY_FILE = 'agent-key.pem';

/** Keeps the agent's TLS files (0600 in a 0700 folder), each written whole then renamed into place. */
export function keepAgentTls(dataDir: string, tls: AgentTls): void {
  const dir = tlsDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const [file, text] of [[CA_FILE, tls.caCert], [CERT_FILE, tls.cert], [KEY_FILE, tls.key]] as const) {
    const target = path.join(dir, file);
    writeFileSync(`${target}.tmp`, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
    renameSync(`${target}.tmp`, target);
  }
}

/** The cluster CA's certificate this agent keeps, if it joined or led a cluster that serves TLS. */
export function readClusterCa(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(tlsDir(dataDir), CA_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

/** What this agent presents to TLS clients: its certificate, then the CA's (so joiners can check the CA's digest). */
export function servedIdentity(tls: AgentTls): ServedIdentity {
  return { chainPem: `${tls.cert.trim()}\n${tls.caCert.trim()}\n`, keyPem: tls.key };
}

/**
 * The names this agent's certificate answers for: the address it announces (--public-host), every
 * address of its interfaces, its host name and `<host>.local`, and loopback, so that whatever
 * address or name a machine on the LAN uses to reach it verifies.
 */
export function certificateNames(publicHost: string | undefined): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1']);
  if (publicHost !== undefined) names.add(publicHost);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      // a link-local IPv6 address needs its zone, which no certificate can name
      if (!address.address.startsWith('fe80:')) names.add(address.address);
    }
  }
  const host = hostname();
  if (/^[A-Za-z0-9.-]{1,253}$/.test(host)) {
    names.add(host);
    if (!host.includes('.')) names.add(`${host}.local`);
  }
  return [...names];
}

/**
 * The join token as the leader prints it: with the CA's digest (`K1.<digest>.<secret>`), so a
 * joiner verifies the leader first. A secret an operator chose that the token form cannot carry is
 * printed bare (joiners then trust the first leader they reach, and say so).
 */
export function printableJoinToken(secret: string, caPem: string): string {
  try {
    return formatJoinToken(secret, caDigest(caPem));
  } catch {
    return secret;
  }
}
