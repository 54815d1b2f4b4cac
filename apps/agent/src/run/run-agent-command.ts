import path from 'node:path';
import type { Logger } from '@kraken/common';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { AgentConfig } from '../config/agent-config.js';
import { SECRETS_FILE } from '@kraken/orchestrator';
import { startAgent } from './start-agent.js';

export interface RunAgentCommandOptions {
  config: AgentConfig;
  logger: Logger;
  io: CommandIo;
  /** Aborted on SIGINT/SIGTERM: the agent stops gracefully and the command returns. */
  signal?: AbortSignal;
}

/** `kraken agent`: starts, tells the user where to look, and runs until signalled. */
export async function runAgentCommand(options: RunAgentCommandOptions): Promise<ExitCode> {
  const { config, logger, io } = options;
  const running = await startAgent({
    config,
    logger,
    onLeading: ({ url, apiToken, joinToken, secretsCreated, joinable }) => {
      const shown = displayUrl(url, config.publicHost);
      io.out('');
      io.out(`Kraken is running. UI and API: ${shown}/`);
      if (secretsCreated) {
        io.out(`  API token (shown once; kept in ${path.join(config.dataDir, SECRETS_FILE)}): ${apiToken}`);
      } else {
        io.out(`  API token: in ${path.join(config.dataDir, SECRETS_FILE)} (the local kraken command reads it)`);
      }
      if (joinable) io.out(`  Add a machine: kraken agent --join ${shown} --join-token ${joinToken}`);
      else io.out('  Single node: other machines can join once RabbitMQ is installed here (apt-get install rabbitmq-server) or this agent runs with --broker-url (see kraken agent --help)');
      io.out(`  Deploy an app: kraken deploy <git-url>`);
      io.out('');
    },
  });
  logger.info('agent running', { role: running.role.kind, runtime: running.runtime, nodeId: running.nodeId });
  await new Promise<void>((resolve) => {
    if (options.signal === undefined) return;
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => {
      resolve();
    }, { once: true });
  });
  logger.info('stopping: apps keep running and are taken over at the next start');
  await running.stop();
  logger.info('agent stopped');
  return ExitCode.Ok;
}

/** An API bound to every interface is shown with an address a browser on this machine can open. */
function displayUrl(url: string, publicHost: string | undefined): string {
  const parsed = new URL(url);
  if (publicHost !== undefined) parsed.hostname = publicHost;
  else if (parsed.hostname === '0.0.0.0' || parsed.hostname === '[::]') parsed.hostname = '127.0.0.1';
  return parsed.origin;
}
