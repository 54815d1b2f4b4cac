import type { ApiClient } from '../client/api-client.js';
import { ExitCode } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import type { ReleaseView } from '../client/queries.js';
import { Queries } from '../client/queries.js';
import { formatElapsed, formatTable } from '../client/table.js';

/** `kraken releases <id>`: every build of a deployment, oldest first, and why any failed. */
export async function releasesCommand(client: ApiClient, input: { id: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const { getReleases } = await client.graphql<{ getReleases: ReleaseView[] }>(Queries.getReleases, { id: input.id });
  if (input.json) {
    io.out(JSON.stringify(getReleases, null, 2));
    return ExitCode.Ok;
  }
  io.out(
    formatTable(
      ['#', 'COMMIT', 'TRIGGER', 'STARTED', 'DURATION', 'RESULT'],
      getReleases.map((r) => [r.number, r.commit?.slice(0, 8), r.trigger, startedCell(r.startedAt), durationCell(r), r.result.toLowerCase()]),
    ),
  );
  // reasons run long (a test's output): under the table, not in it
  for (const release of getReleases) {
    if (release.reason !== null) io.out(`#${String(release.number)} ${release.result.toLowerCase()}: ${release.reason}`);
  }
  io.out(`a release's own log: kraken logs ${input.id} --release <#>`);
  return ExitCode.Ok;
}

/** "2025-11-25 12:00:03 UTC": sortable, and the same on every machine of the cluster. */
function startedCell(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function durationCell(release: ReleaseView): string {
  const elapsed = formatElapsed(release.durationMs);
  return release.endedAt === null ? `${elapsed} so far` : elapsed;
}
