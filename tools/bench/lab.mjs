// What the failover benches share (tools/bench/failover-leader, tools/bench/failover): the checks
// that the machine can run network-namespace labs, a poll loop that times the first answer, a
// Docker Swarm of three managers formed from a dockerd per lab host, and the loop that alternates
// which side of a round goes first. Each bench keeps its own measurement.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { createNetnsLab, startNetnsDockerd } from '@kraken/testing';

const run = promisify(execFile);

/** How long a cluster may take to form (three RabbitMQ nodes on a busy 2-core machine take a minute). */
export const FORM_TIMEOUT_MS = 300_000;
/** Each answer a survivor gets to give before it is asked again. */
export const REQUEST_TIMEOUT_MS = 2_000;

export const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
export const percent = (ratio) => `${(ratio * 100).toFixed(1)}%`;
export const errorText = (error) => (error instanceof Error ? error.message : String(error));

/**
 * The cluster harness (tools/cluster/harness.ts), once the machine is known to run it: root (it
 * creates network namespaces and Docker engines), Node 24 (which strips the harness's types itself)
 * and a built agent.
 */
export async function labHarness(bench) {
  if (process.getuid?.() !== 0)
    throw new Error(`the ${bench} bench creates network namespaces and Docker engines: run it as root`);
  // Node 24 (and 22.18 on) strips the harness's types itself; an older one would fail on the import less clearly
  if (!process.features.typescript)
    throw new Error(
      `the ${bench} bench imports tools/cluster/harness.ts: run it on Node 24 (this is ${process.version}, which runs no .ts file)`,
    );
  const harness = await import('../cluster/harness.ts');
  if (!existsSync(harness.AGENT_CLI))
    throw new Error(`${harness.AGENT_CLI} is missing: build first (NX_DAEMON=false npx nx run-many -t build)`);
  return harness;
}

/**
 * Asks `ask(target)` of each target every `intervalMs` (each target on its own, so one slow to answer
 * delays no other) until one resolves with something other than undefined. Resolves then with that
 * answer, its target, when it came, how many times it was asked in vain (errors and undefined) and
 * the first error.
 */
export function firstAnswer(targets, ask, deadline, what, intervalMs) {
  return new Promise((resolve, reject) => {
    let found = false;
    let refused = 0;
    let firstError;
    let lastError;
    const poll = async (target) => {
      while (!found) {
        try {
          const answer = await ask(target);
          if (answer !== undefined && !found) {
            found = true;
            resolve({ target, answer, at: performance.now(), refused, firstError });
            return;
          }
          refused++;
        } catch (error) {
          refused++;
          firstError ??= error;
          lastError = error;
        }
        if (performance.now() > deadline) return;
        await sleep(intervalMs);
      }
    };
    void Promise.all(targets.map(poll)).then(() => {
      if (!found) reject(new Error(`${what} within the time allowed (last error: ${errorText(lastError)})`));
    });
  });
}

/** The end of each process's output, for whoever reads a failure: `[{ name, output }]`. */
export function outputTails(processes, lines = 40) {
  return processes
    .map(({ name, output }) => `--- the end of ${name}'s output ---\n${output.trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}

/** Copies `image` from the machine's engine into the engine at `socketPath` (no registry). */
export async function loadImage(image, socketPath) {
  await run('sh', ['-c', 'docker save "$0" | docker -H "unix://$1" load', image, socketPath], { timeout: 120_000 });
}

/**
 * A Docker Swarm of three managers in a lab of its own: a dockerd in each host, h1 inits the swarm,
 * h2 and h3 join. `images` are loaded into every engine first. Resolves once all three are reachable
 * and ready, with the lab, each host's engine and client, the leader's and how long it took.
 */
export async function formSwarm(name, cleanup, { images = [] } = {}) {
  const formedAt = performance.now();
  const lab = await createNetnsLab({ name, hosts: 3 });
  cleanup(() => lab.destroy());
  const engines = await Promise.all(lab.hosts.map((host) => startNetnsDockerd(lab, host)));
  for (const engine of engines) cleanup(() => engine.destroy());
  const destroy = async () => {
    await Promise.all(engines.map((engine) => engine.destroy()));
    await lab.destroy();
  };
  try {
    for (const engine of engines) for (const image of images) await loadImage(image, engine.socketPath);
    const clients = engines.map((engine) => ({
      engine,
      docker: new Docker({ socketPath: engine.socketPath, timeout: REQUEST_TIMEOUT_MS }),
    }));
    const formingClient = (engine) => new Docker({ socketPath: engine.socketPath, timeout: 60_000 });
    const [founder, ...joiners] = engines;
    const listen = (engine) => ({ ListenAddr: `${engine.host.address}:2377`, AdvertiseAddr: engine.host.address });
    await formingClient(founder).swarmInit(listen(founder));
    const { JoinTokens } = await formingClient(founder).swarmInspect();
    for (const engine of joiners) {
      await formingClient(engine).swarmJoin({
        ...listen(engine),
        RemoteAddrs: [`${founder.host.address}:2377`],
        JoinToken: JoinTokens.Manager,
      });
    }
    const { answer: leaderName } = await firstAnswer(
      clients.slice(0, 1),
      async ({ docker }) => {
        const nodes = await docker.listNodes();
        const managers = nodes.filter(
          (node) => node.ManagerStatus?.Reachability === 'reachable' && node.Status.State === 'ready',
        );
        return managers.length === 3
          ? managers.find((node) => node.ManagerStatus.Leader === true)?.Description.Hostname
          : undefined;
      },
      performance.now() + FORM_TIMEOUT_MS,
      'no swarm of three reachable managers with a leader',
      500,
    );
    const leader = clients.find(({ engine }) => engine.host.name === leaderName);
    if (leader === undefined) throw new Error(`swarm names ${leaderName} as the leader, which is none of the lab's hosts`);
    return { lab, engines, clients, leader, formedMs: performance.now() - formedAt, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/**
 * `rounds` rounds of `measure(side, round)` over `sides`, each round starting one side later than the
 * last (so no side always goes first on a machine that slows down). `report(side, round, result)`
 * prints as results come. Resolves to each side's results.
 */
export async function alternateRounds(rounds, sides, measure, report) {
  const results = Object.fromEntries(sides.map((side) => [side, []]));
  for (let round = 1; round <= rounds; round++) {
    const shift = (round - 1) % sides.length;
    for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) {
      const result = await measure(side, round);
      results[side].push(result);
      report(side, round, result);
    }
  }
  return results;
}
