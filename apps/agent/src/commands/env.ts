import { ErrorCode, KrakenError } from '@kraken/common';
import { envNameProblem } from '@kraken/messages';
import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import { Queries, humanStatus } from '../client/queries.js';
import { formatTable } from '../client/table.js';
import { parseEnvPairs } from './deploy.js';

interface EnvView {
  id: string;
  status: string;
  statusMessage: string | null;
  env: { name: string; value: string }[];
}

/** `kraken env <id>`: the names of a deployment's variables; the API never sends values back ("***"). */
export async function envListCommand(client: ApiClient, options: { id: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { getDeployment } = await client.graphql<{ getDeployment: EnvView }>(Queries.getEnv, { id: options.id });
  if (options.json) {
    io.out(JSON.stringify({ id: getDeployment.id, env: getDeployment.env }));
    return ExitCode.Ok;
  }
  if (getDeployment.env.length === 0) {
    io.out(`${getDeployment.id} has no environment variables; add one with kraken env set ${getDeployment.id} NAME=value`);
    return ExitCode.Ok;
  }
  io.out(formatTable(['NAME', 'VALUE'], getDeployment.env.map((variable) => [variable.name, variable.value])));
  return ExitCode.Ok;
}

export interface EnvSetInput {
  id: string;
  /** As typed: `NAME=value`, or `NAME` alone, whose value is read from stdin (so it stays out of the shell's history). */
  assignments: readonly string[];
  json: boolean;
  /** Reads standard input to its end; needed only for a bare NAME. */
  readStdin?: (() => Promise<string>) | undefined;
}

/** Splits `NAME=value` pairs from a bare NAME; at most one may read its value from stdin. */
export async function parseAssignments(input: EnvSetInput): Promise<{ name: string; value: string }[]> {
  if (input.assignments.length === 0) throw new KrakenError(ErrorCode.InvalidInput, 'kraken env set: give NAME=value (or NAME alone to read its value from stdin)');
  const bare = input.assignments.filter((assignment) => !assignment.includes('='));
  if (bare.length > 1) throw new KrakenError(ErrorCode.InvalidInput, `only one NAME can read its value from stdin; got ${bare.join(', ')}`);
  const vars: { name: string; value: string }[] = [];
  for (const assignment of input.assignments) {
    if (assignment.includes('=')) {
      vars.push(...parseEnvPairs([assignment]));
      continue;
    }
    const problem = envNameProblem(assignment);
    if (problem !== undefined) throw new KrakenError(ErrorCode.InvalidInput, problem);
    if (input.readStdin === undefined) throw new KrakenError(ErrorCode.InvalidInput, `${assignment}: no stdin to read its value from; give ${assignment}=value`);
    // one trailing newline is what `echo` and a terminal's Enter add, not part of the value
    vars.push({ name: assignment, value: (await input.readStdin()).replace(/\r?\n$/, '') });
  }
  return vars;
}

/** `kraken env set <id> NAME=value... | NAME`: a running app restarts with them (no rebuild). */
export async function envSetCommand(client: ApiClient, input: EnvSetInput, io: CommandIo): Promise<ExitCode> {
  const set = await parseAssignments(input);
  return await changeEnv(client, { id: input.id, set, unset: [], json: input.json }, io);
}

/** `kraken env unset <id> NAME...`. */
export async function envUnsetCommand(client: ApiClient, options: { id: string; names: readonly string[]; json: boolean }, io: CommandIo): Promise<ExitCode> {
  if (options.names.length === 0) throw new KrakenError(ErrorCode.InvalidInput, 'kraken env unset: give the NAME of at least one variable');
  return await changeEnv(client, { id: options.id, set: [], unset: options.names, json: options.json }, io);
}

async function changeEnv(
  client: ApiClient,
  change: { id: string; set: { name: string; value: string }[]; unset: readonly string[]; json: boolean },
  io: CommandIo,
): Promise<ExitCode> {
  const { setEnv } = await client.graphql<{ setEnv: EnvView }>(Queries.setEnv, { id: change.id, set: change.set, unset: change.unset });
  if (change.json) {
    io.out(JSON.stringify(setEnv));
    return ExitCode.Ok;
  }
  io.out(
    setEnv.status === 'ERRORED'
      ? `saved for ${setEnv.id}'s next deploy (it is ${humanStatus(setEnv.status)}); kraken redeploy ${setEnv.id} starts it with them`
      : `${setEnv.statusMessage ?? 'settings changed'} (${setEnv.id}, now ${humanStatus(setEnv.status)}); follow it with kraken ls`,
  );
  return ExitCode.Ok;
}
