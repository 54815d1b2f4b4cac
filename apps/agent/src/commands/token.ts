import path from 'node:path';
import { readLedCluster, SECRETS_FILE } from '../client/credentials.js';
import { CA_FILE, printableJoinToken, readClusterCa, tlsDir } from '../run/agent-tls.js';
import { caDigest } from '@kraken/trust';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';

/**
 * `kraken token`: the cluster's join token, from the local agent's secrets file (so only who may
 * read that file gets it), alone on stdout for scripts; how to use it goes to stderr.
 */
export function tokenCommand(options: { dataDir: string; json: boolean }, io: CommandIo): ExitCode {
  const cluster = readLedCluster(options.dataDir);
  const secretsFile = path.join(options.dataDir, SECRETS_FILE);
  if (cluster === undefined) {
    io.err(`kraken: no join token in ${secretsFile} (missing, unreadable, or this agent never led): run kraken token on the machine that leads, as the user its agent runs as, or give --data-dir`);
    return ExitCode.NotFound;
  }
  // the leader's CA: the token names it, so a joiner verifies the leader before sending anything
  const ca = readClusterCa(options.dataDir);
  const joinToken = ca === undefined ? cluster.joinToken : printableJoinToken(cluster.joinToken, ca);
  if (options.json) {
    io.out(JSON.stringify({ ...cluster, joinToken }));
    return ExitCode.Ok;
  }
  io.out(joinToken);
  io.err(`kraken: the join token of cluster ${cluster.clusterId}. On another machine, put it in a file only root can read and run:`);
  io.err('  kraken agent --join-token-file <that file>      (or KRAKEN_JOIN_TOKEN=<token> kraken agent; --join <this machine\'s API URL> where mDNS does not reach)');
  return ExitCode.Ok;
}

/**
 * `kraken ca`: the cluster CA's certificate this agent keeps (PEM, on stdout), for a client on
 * another machine to trust (`kraken --ca <file>`, a browser, curl --cacert).
 */
export function caCommand(options: { dataDir: string }, io: CommandIo): ExitCode {
  const ca = readClusterCa(options.dataDir);
  if (ca === undefined) {
    io.err(`kraken: no cluster CA in ${path.join(tlsDir(options.dataDir), CA_FILE)}: this agent has not led or joined a cluster that serves TLS (or runs with --insecure-no-tls); give --data-dir for another agent's`);
    return ExitCode.NotFound;
  }
  io.out(ca.trimEnd());
  io.err(`kraken: the CA of this agent's cluster (digest ${caDigest(ca)}). Save it to a file and trust it: kraken --ca <file> --api https://<agent>:4000 ..., curl --cacert <file>, or your browser's certificate settings`);
  return ExitCode.Ok;
}
