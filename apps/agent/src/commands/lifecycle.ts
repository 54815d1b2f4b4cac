import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries, humanStatus } from '../client/queries.js';

export type LifecycleVerb = 'stop' | 'start' | 'restart';

const mutations = {
  stop: { query: Queries.stopDeployment, field: 'stopDeployment', done: 'stopped' },
  start: { query: Queries.startDeployment, field: 'startDeployment', done: 'started' },
  restart: { query: Queries.restartDeployment, field: 'restartDeployment', done: 'restarted' },
} as const;

export interface LifecycleOptions {
  id: string;
  json: boolean;
  /** Return once the request is accepted instead of waiting for the node to carry it out. */
  noWait: boolean;
  /** @default 120 s: a start waits for the app to answer, which the node bounds by its ready timeout */
  waitMs?: number;
  /** @default 500 ms */
  pollMs?: number;
}

/**
 * `kraken stop|start|restart <id>`: asks for it, then waits until the node reports the outcome
 * (STOPPED for a stop, RUNNING for a start or restart) and prints it. None of them builds anything.
 * Exits 1 when the node could not do it (a start whose app did not answer stays STOPPED, and says
 * why), or when the outcome did not come within the wait.
 */
export async function lifecycleCommand(client: ApiClient, verb: LifecycleVerb, options: LifecycleOptions, io: CommandIo): Promise<ExitCode> {
  const { query, field, done } = mutations[verb];
  const answer = await client.graphql<Record<string, DeploymentView>>(query, { id: options.id });
  const requested = answer[field];
  if (requested === undefined) throw new Error(`the API answered ${field} with nothing`);
  if (options.noWait) {
    io.out(options.json ? JSON.stringify(requested) : `${verb} requested for ${requested.id} (now ${humanStatus(requested.status)})`);
    return ExitCode.Ok;
  }
  const want = verb === 'stop' ? 'STOPPED' : 'RUNNING';
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  let current = requested;
  // a stop stays RUNNING and a start DEPLOYING until the node reports; a start that fails ends STOPPED
  while (!settled(verb, current, requested)) {
    if (Date.now() >= deadline) break;
    await sleep(options.pollMs ?? 500);
    current = (await client.graphql<{ getDeployment: DeploymentView }>(Queries.getDeployment, { id: options.id })).getDeployment;
  }
  const ok = current.status === want && settled(verb, current, requested);
  if (options.json) {
    io.out(JSON.stringify(current));
  } else if (ok) {
    io.out(`${done} ${current.id}${verb === 'stop' ? '' : ` without a build${current.appUrl === null ? '' : `: ${current.appUrl}`}`}`);
  } else {
    io.err(`${verb} of ${current.id} did not complete: it is ${humanStatus(current.status)}${current.statusMessage === null ? '' : ` (${current.statusMessage})`}`);
  }
  return ok ? ExitCode.Ok : ExitCode.Failed;
}

/** The node has reported on this request: a status newer than the one the request left. */
function settled(verb: LifecycleVerb, current: DeploymentView, requested: DeploymentView): boolean {
  if (verb === 'stop' && current.status !== 'RUNNING') return true;
  if (current.status === 'DEPLOYING') return false;
  // the status history grows with the node's report (a failed start reports STOPPED again)
  return current.statusHistory.length > requested.statusHistory.length;
}
