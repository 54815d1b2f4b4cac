import { ErrorCode, KrakenError } from '@kraken/common';
import { envNameProblem } from '@kraken/messages';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { DeploymentView, LogLineView } from '../client/queries.js';
import { Queries, humanStatus } from '../client/queries.js';
import { formatElapsed } from '../client/table.js';

export interface DeployInput {
  url: string;
  branch: string;
  /** `NAME=value` pairs as typed. */
  env: readonly string[];
  watch: boolean;
  /** The name the ingress answers for. @default the repository's name, made unique */
  name?: string | undefined;
  /** Follow the status until Running or Errored. @default true */
  follow: boolean;
  json: boolean;
  /** @default 15 minutes */
  timeoutMs?: number;
  /** @default 400 */
  pollIntervalMs?: number;
}

export function parseEnvPairs(pairs: readonly string[]): { name: string; value: string }[] {
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    const shown = pair.length > 80 ? `${JSON.stringify(pair.slice(0, 80))}...` : JSON.stringify(pair);
    if (at < 0) throw new KrakenError(ErrorCode.InvalidInput, `--env ${shown}: expected NAME=value`);
    const name = pair.slice(0, at);
    const problem = envNameProblem(name);
    if (problem !== undefined) throw new KrakenError(ErrorCode.InvalidInput, `--env ${shown}: expected NAME=value; ${problem}`);
    return { name, value: pair.slice(at + 1) };
  });
}

/** Where the app stays reachable, whichever node runs it. */
function nameLine(name: string, appUrl: string | null): string {
  return `named ${name}: ${appUrl ?? `http://${name}.local`} through any agent's ingress, or curl -H 'Host: ${name}' http://<any agent>:<ingress port>/`;
}

/** `kraken deploy`: creates the deployment, then shows each status step live until it runs or fails. */
export async function deployCommand(client: ApiClient, input: DeployInput, io: CommandIo): Promise<ExitCode> {
  const env = parseEnvPairs(input.env);
  const started = Date.now();
  const { createDeployment: id } = await client.graphql<{ createDeployment: string }>(Queries.createDeployment, {
    url: input.url,
    branch: input.branch,
    env: env.length === 0 ? null : env,
    watch: input.watch,
    name: input.name ?? null,
  });
  if (!input.follow) {
    io.out(input.json ? JSON.stringify({ id }) : id);
    return ExitCode.Ok;
  }
  if (!input.json) io.out(`deployment ${id}`);
  const deadline = started + (input.timeoutMs ?? 15 * 60_000);
  let shown = 0;
  for (;;) {
    const { getDeployment: deployment } = await client.graphql<{ getDeployment: DeploymentView }>(Queries.getDeployment, { id });
    if (!input.json) {
      for (const entry of deployment.statusHistory.slice(shown)) {
        const elapsed = formatElapsed(Math.max(0, entry.time * 1000 - started)).padStart(7);
        // the message usually names the node already ("placed on n1"); otherwise say where it happens
        const detail = entry.message ?? (entry.node === null ? '' : `on ${entry.node}`);
        io.out(`${elapsed}  ${humanStatus(entry.status)}${detail === '' ? '' : `  (${detail})`}`);
      }
    }
    shown = deployment.statusHistory.length;
    if (deployment.status === 'RUNNING') {
      if (input.json) io.out(JSON.stringify(deployment));
      else {
        io.out(`running at ${deployment.deploymentUrl ?? `port ${deployment.port ?? '?'}`} after ${formatElapsed(Date.now() - started)}`);
        if (deployment.name !== null) io.out(nameLine(deployment.name, deployment.appUrl));
      }
      return ExitCode.Ok;
    }
    if (deployment.status === 'ERRORED' || deployment.status === 'DESTROYED') {
      if (input.json) {
        io.out(JSON.stringify(deployment));
      } else {
        io.err(`${humanStatus(deployment.status)}: ${deployment.statusMessage ?? 'no reason given'}`);
        const tail = await lastLogLines(client, id, 20);
        if (tail.length > 0) {
          io.err('last log lines:');
          for (const line of tail) io.err(`  [${line.stream}] ${line.text}`);
        }
      }
      return ExitCode.Failed;
    }
    if (Date.now() > deadline) {
      io.err(`still ${humanStatus(deployment.status)} after ${formatElapsed(Date.now() - started)}; it goes on in the cluster (kraken ls, kraken logs ${id})`);
      return ExitCode.Failed;
    }
    await new Promise((resolve) => setTimeout(resolve, input.pollIntervalMs ?? 400));
  }
}

async function lastLogLines(client: ApiClient, id: string, count: number): Promise<LogLineView[]> {
  try {
    const lines: LogLineView[] = [];
    let after = 0;
    for (;;) {
      const { logs } = await client.graphql<{ logs: { lines: LogLineView[]; next: number } }>(Queries.logs, { id, after, limit: 500 });
      lines.push(...logs.lines);
      if (logs.lines.length === 0 || logs.next === after) break;
      after = logs.next;
    }
    return lines.slice(-count);
  } catch {
    // the error itself is what the user needs; logs are a bonus
    return [];
  }
}
