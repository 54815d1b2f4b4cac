import path from 'node:path';
import { readLedCluster, SECRETS_FILE } from '../client/credentials.js';
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
  if (options.json) {
    io.out(JSON.stringify(cluster));
    return ExitCode.Ok;
  }
  io.out(cluster.joinToken);
  io.err(`kraken: the join token of cluster ${cluster.clusterId}. On another machine, put it in a file only root can read and run:`);
  io.err('  kraken agent --join-token-file <that file>      (or KRAKEN_JOIN_TOKEN=<token> kraken agent; --join <this machine\'s API URL> where mDNS does not reach)');
  return ExitCode.Ok;
}
