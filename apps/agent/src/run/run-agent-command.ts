import path from 'node:path';
import type { Logger } from '@kraken/common';
import { toKrakenError, withTimeout } from '@kraken/common';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { AgentConfig } from '../config/agent-config.js';
import { SECRETS_FILE } from '@kraken/orchestrator/follow';
import { LeaseHeldElsewhere } from '../executors/lease-executor.js';
import type { RunningAgent } from './start-agent.js';
import { startAgent } from './start-agent.js';
import { BrokerNodeKeeper } from './broker-node-keeper.js';
import { keepsMembership } from './kept-membership.js';
import { LeaderSearch } from './leader-search.js';
import { clusterWideRefusals, ownFaults } from './join-first-accepting.js';

/**
 * How long an agent that lost the lease (or keeps its cluster's state and finds no leader) looks for
 * a leader before it would lead itself (a standby notices a lost leader within ~15 s and announces
 * itself once it leads). Leading still needs the lease, so a cut-off agent that gives up waiting
 * cannot lead beside another.
 */
const REJOIN_PATIENCE_MS = 45_000;
/**
 * How long a machine that keeps its cluster's state waits for a lone orchestrator to answer a join:
 * the one its --join names may be gone for good, and after REJOIN_PATIENCE_MS it competes itself.
 */
const MEMBER_JOIN_PATIENCE_MS = 20_000;
/** The pause before an agent that lost the lease tries to start again after a failed start. */
const RETRY_AFTER_MS = 5_000;

export interface RunAgentCommandOptions {
  config: AgentConfig;
  logger: Logger;
  io: CommandIo;
  /** Aborted on SIGINT/SIGTERM: the agent stops gracefully and the command returns. */
  signal?: AbortSignal;
}

/**
 * `kraken agent`: starts, tells the user where to look, and runs until signalled. An agent that led
 * and lost the lease to a standby (or found another holding it) starts again, to follow the new leader.
 */
export async function runAgentCommand(options: RunAgentCommandOptions): Promise<ExitCode> {
  const { config, logger, io } = options;
  const signalled = new Promise<'signal'>((resolve) => {
    if (options.signal === undefined) return;
    if (options.signal.aborted) resolve('signal');
    options.signal.addEventListener('abort', () => {
      resolve('signal');
    }, { once: true });
  });
  let followFirstMs = 0;
  const search = new LeaderSearch(REJOIN_PATIENCE_MS);
  // one RabbitMQ node for every start of this process: it stops when the agent exits, not between starts
  const brokerNodeKeeper = new BrokerNodeKeeper();
  try {
    for (;;) {
      let stepDown!: (why: string) => void;
      const steppedDown = new Promise<string>((resolve) => {
        stepDown = resolve;
      });
      // read at every start: the first join is what gives a machine the cluster's state
      const member = keepsMembership(config);
      const competeForLease = member && search.competeNext();
      if (competeForLease) logger.warn('no leader found: this machine keeps the cluster\'s state and a RabbitMQ node of it, so it competes for the lease (whoever holds it leads)', { lookedMs: search.lookedMs() });
      let running: RunningAgent;
      try {
        running = await startAgent({
          config,
          logger,
          followFirstMs,
          competeForLease,
          brokerNodeKeeper,
          lookBeyondJoin: followFirstMs > 0,
          ...(member ? { joinPatienceMs: MEMBER_JOIN_PATIENCE_MS } : {}),
          onStepDown: (why) => { stepDown(why); },
          onLeading: printWhereToLook(config, io),
        });
      } catch (error) {
        if (error instanceof LeaseHeldElsewhere) {
          logger.warn('another agent leads this cluster: starting again to follow it', { why: error.message });
          search.start();
        } else if (followFirstMs > 0 || (member && !refusedForGood(error))) {
          // it was part of a cluster a moment ago (or keeps one's state): the network or the leader
          // may be down for a while, so try again
          logger.error('could not start as part of the cluster; trying again shortly', { error: toKrakenError(error).message, lookedMs: search.lookedMs() });
          search.failed();
          if ((await withTimeout(signalled, RETRY_AFTER_MS, () => 'retry' as const)) === 'signal') return ExitCode.Ok;
        } else {
          throw error;
        }
        followFirstMs = REJOIN_PATIENCE_MS;
        continue;
      }
      search.found();
      logger.info('agent running', { role: running.role.kind, runtime: running.runtime, nodeId: running.nodeId });
      const outcome = await Promise.race([signalled, steppedDown]);
      if (outcome === 'signal') {
        logger.info('stopping: apps keep running and are taken over at the next start');
        await running.stop();
        await brokerNodeKeeper.stopAll();
        logger.info('agent stopped');
        return ExitCode.Ok;
      }
      // read before stopping: the broker connections go with the rest
      const mayBeFollowed = running.hasPeers();
      logger.warn(mayBeFollowed ? 'this agent no longer leads: starting again to follow the new leader' : 'this agent lost the lease and has no peer to take over: starting again to lead', { why: outcome });
      await running.stop();
      followFirstMs = mayBeFollowed ? REJOIN_PATIENCE_MS : 0;
      if (mayBeFollowed) search.start();
    }
  } finally {
    await brokerNodeKeeper.stopAll();
  }
}

/**
 * A refusal no retry changes: this agent's own fault (a bad setting) or the cluster's answer to its
 * token or protocol, as joinFirstAccepting tells them apart. A fresh start ends with it.
 */
function refusedForGood(error: unknown): boolean {
  const { code } = toKrakenError(error);
  return ownFaults.includes(code) || clusterWideRefusals.includes(code);
}

function printWhereToLook(config: AgentConfig, io: CommandIo): NonNullable<Parameters<typeof startAgent>[0]['onLeading']> {
  return ({ url, apiToken, joinToken, secretsCreated, joinable }) => {
    const shown = displayUrl(url, config.publicHost);
    io.out('');
    io.out(`Kraken is running. UI and API: ${shown}/`);
    if (secretsCreated) {
      io.out(`  API token (shown once; kept in ${path.join(config.dataDir, SECRETS_FILE)}): ${apiToken}`);
    } else {
      io.out(`  API token: in ${path.join(config.dataDir, SECRETS_FILE)} (the local kraken command reads it)`);
    }
    // the join token lets a machine in (and, one that may lead, into the broker): shown once, like the
    // API token, and not in every start's log; `kraken token` prints it again for whoever may read it
    if (joinable && secretsCreated) io.out(`  Add a machine: kraken agent --join ${shown} --join-token ${joinToken}   (join token shown once; kraken token prints it again)`);
    else if (joinable) io.out('  Add a machine: kraken token prints the command (the join token is kept in the secrets file above)');
    else io.out('  Single node: other machines can join once RabbitMQ is installed here (apt-get install rabbitmq-server) or this agent runs with --broker-url (see kraken agent --help)');
    io.out(`  Deploy an app: kraken deploy <git-url>`);
    io.out('');
  };
}

/**
 * An API bound to every interface is shown with an address a browser on this machine can open;
 * on loopback in plain HTTP, which the agent serves there so that no certificate warning greets
 * a first start (other machines get TLS).
 */
function displayUrl(url: string, publicHost: string | undefined): string {
  const parsed = new URL(url);
  if (publicHost !== undefined) parsed.hostname = publicHost;
  else if (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]') parsed.hostname = '127.0.0.1';
  if (/^(127\.|localhost$|\[::1\]$)/.test(parsed.hostname)) parsed.protocol = 'http:';
  return parsed.origin;
}
