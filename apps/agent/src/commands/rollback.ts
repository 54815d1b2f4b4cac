import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { DeploymentView } from '../client/queries.js';
import { Queries, humanStatus } from '../client/queries.js';

export interface RollbackOptions {
  id: string;
  /** A commit (or an abbreviation) of one of the kept versions; default: the newest before the running one. */
  to?: string | undefined;
  json: boolean;
  /** Return once the request is accepted instead of waiting for the node to carry it out. */
  noWait: boolean;
  /** @default 300 s: a node that no longer keeps the build builds the commit */
  waitMs?: number;
  /** @default 500 ms */
  pollMs?: number;
}

/**
 * `kraken rollback <id> [--to <commit>]`: asks for an earlier successful release again, then
 * waits until the node reports it running (from the build it kept, or built again when it kept
 * none) and prints that. Exits 1 when it did not come up on that commit within the wait.
 */
export async function rollbackCommand(client: ApiClient, options: RollbackOptions, io: CommandIo): Promise<ExitCode> {
  const { rollbackDeployment: requested } = await client.graphql<{ rollbackDeployment: DeploymentView }>(Queries.rollbackDeployment, {
    id: options.id,
    commit: options.to ?? null,
  });
  const target = (requested.commit ?? '').slice(0, 7);
  if (options.noWait) {
    io.out(options.json ? JSON.stringify(requested) : `rollback to ${target} requested for ${requested.id} (now ${humanStatus(requested.status)})`);
    return ExitCode.Ok;
  }
  const deadline = Date.now() + (options.waitMs ?? 300_000);
  let current = requested;
  while (!settled(current, requested) && Date.now() < deadline) {
    await sleep(options.pollMs ?? 500);
    current = (await client.graphql<{ getDeployment: DeploymentView }>(Queries.getDeployment, { id: options.id })).getDeployment;
  }
  // a redeploy that fails before the swap leaves the previous version RUNNING, on its own commit
  const ok = current.status === 'RUNNING' && settled(current, requested) && current.commit === requested.commit;
  if (options.json) {
    io.out(JSON.stringify(current));
  } else if (ok) {
    const how = current.statusMessage === null ? '' : ` (${current.statusMessage})`;
    io.out(`rolled back ${current.id} to ${target}${how}${current.appUrl === null ? '' : `: ${current.appUrl}`}`);
  } else {
    io.err(`rollback of ${current.id} to ${target} did not complete: it is ${humanStatus(current.status)} on ${(current.commit ?? 'no commit').slice(0, 7)}${current.statusMessage === null ? '' : ` (${current.statusMessage})`}`);
  }
  return ok ? ExitCode.Ok : ExitCode.Failed;
}

/** The node has reported the outcome: RUNNING or ERRORED after the request's own statuses. */
function settled(current: DeploymentView, requested: DeploymentView): boolean {
  return (current.status === 'RUNNING' || current.status === 'ERRORED') && current.statusHistory.length > requested.statusHistory.length;
}
