/** One entry of a deployment's status history (or a deploymentChanged event), as far as this module reads it. */
export interface StatusEntry {
  status: string;
  message: string | null;
}

const takenPort = /host port \d+ is taken on /;

/**
 * A deployment's statuses without the attempts a taken host port cut short. Something on the
 * machine that Kraken does not know (another Kraken's app, any program) may hold the port the
 * orchestrator handed out; it then places the deployment again with another port, and that
 * DELEGATING_DEPLOYMENT's message says so. That is the product doing its job, so a test of the
 * lifecycle reads the history from the last such placement on. Throws when a deployment was placed
 * again for any other reason: that is not contention, and the test should see it.
 */
export function withoutPortRetries<T extends StatusEntry>(entries: readonly T[]): T[] {
  const placements = entries.flatMap((entry, index) => (entry.status === 'DELEGATING_DEPLOYMENT' ? [index] : []));
  const [first, ...again] = placements;
  if (first === undefined || again.length === 0) return [...entries];
  for (const index of again) {
    const entry = entries[index];
    if (!takenPort.test(entry?.message ?? '')) {
      throw new Error(`placed again, but not because a host port was taken: ${JSON.stringify(entry)} in ${JSON.stringify(entries)}`);
    }
  }
  return [...entries.slice(0, first), ...entries.slice(again.at(-1))];
}
