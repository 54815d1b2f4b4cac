// What the bench scripts share: flags, the fixture app as a git repository, cleanup that runs
// whatever happens, and the statistics they print. Each bench keeps its own measurement code.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import amqplib from 'amqplib';
import { Label } from '@kraken/docker-deployer';

export const amqpUrl = process.env.KRAKEN_BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const dockerSocket = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';

/**
 * parseArgs with `--help` (prints `help`, exits 0), `--smoke` when `checks.smoke` is given, and the
 * flags listed in `checks.positive` / `checks.nonNegative` checked to be integers >= 1 / >= 0
 * (exits 2 naming the flag). `--smoke` swaps the defaults for `checks.smoke`'s small ones: one short
 * round per side that proves the bench works end to end (CI runs every bench so); flags given
 * explicitly still win. Returns the values, the parsed numbers and whether this is a smoke run.
 */
export function parseFlags(help, options, checks = {}) {
  const { positive = [], nonNegative = [], smoke: smokeDefaults } = checks;
  // defaults are applied below, so that a smoke default can take the place of the full run's
  const withoutDefaults = Object.fromEntries(Object.entries(options).map(([name, option]) => [name, { ...option, default: undefined }]));
  if (smokeDefaults !== undefined) withoutDefaults.smoke = { type: 'boolean' };
  const { values: given } = parseArgs({ options: { ...withoutDefaults, help: { type: 'boolean', default: false } } });
  if (given.help) {
    console.log(help);
    process.exit(0);
  }
  const smoke = given.smoke === true;
  const values = Object.fromEntries(
    Object.entries(options).map(([name, option]) => [name, given[name] ?? (smoke ? smokeDefaults[name] : undefined) ?? option.default]),
  );
  const numbers = {};
  for (const [names, min] of [
    [positive, 1],
    [nonNegative, 0],
  ]) {
    for (const name of names) {
      const value = Number(values[name]);
      if (!Number.isInteger(value) || value < min) {
        console.error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(values[name])}`);
        process.exit(2);
      }
      numbers[name] = value;
    }
  }
  return { values, numbers, smoke };
}

/** What a bench prints under its numbers: its targets in a full run, and that none is judged in a smoke run. */
export function verdict(smoke, line) {
  console.log(smoke ? 'smoke run: one short round per side, so the numbers are not judged against the targets' : line);
}

/** `files` written to `dir` and committed on `main`, as an app author would push them. */
export async function fixtureRepo(dir, files) {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  const git = (...args) => execFileSync('git', ['-c', 'user.name=Kraken Bench', '-c', 'user.email=bench@kraken.invalid', ...args], { cwd: dir, stdio: 'pipe' });
  git('init', '--quiet', '--initial-branch', 'main');
  git('add', '--all');
  git('commit', '--quiet', '--message', 'bench fixture');
  return dir;
}

/** A shipwreck.toml for a node app on `port` started with `node server.js`. */
export function nodeManifest(name, port) {
  return `[app]\nname = "${name}"\nversion = "1.0.0"\nendpoint = "/"\n\n[config]\nlang = "node"\nport = ${port}\nrun = "node server.js"\n`;
}

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Id of the untagged image the template's context stage leaves, from legacy-builder output. */
export function contextStageImage(buildLines) {
  const at = buildLines.findIndex((text) => /^Step \d+\/\d+ : COPY \. \/src\/$/.test(text.trim()));
  if (at < 0) return undefined;
  const id = buildLines.slice(at + 1).find((text) => /^ ---> [0-9a-f]{12}$/.test(text.trimEnd()));
  return id?.trim().slice(5);
}

/**
 * The running app container of one deployment, found by the labels the deployer puts on it
 * (its name is the deployer's business and has changed before).
 */
export async function appContainer(docker, deploymentId) {
  const found = await docker.listContainers({ filters: { label: [`${Label.Deployment}=${deploymentId}`, `${Label.Role}=app`] } });
  if (found.length !== 1) {
    throw new Error(`expected one running container labelled ${Label.Deployment}=${deploymentId} and ${Label.Role}=app, found ${found.length}`);
  }
  return docker.getContainer(found[0].Id);
}

/** Removes every container and image labelled with this node id, whatever their state. */
export async function removeNodeResources(docker, nodeId) {
  const filters = { label: [`${Label.Node}=${nodeId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((info) => docker.getContainer(info.Id).remove({ force: true })));
  const images = await docker.listImages({ filters });
  for (const image of images) await docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
}

export async function deleteQueues(url, queues) {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  await connection.close();
}

/**
 * Runs `body(cleanup)` and exits: 0 when it resolves, 1 (with the stack) when it throws. Steps
 * given to `cleanup` run afterwards, newest first, each one attempted even when an earlier one
 * failed, so a failed run leaves nothing behind. Ctrl-C (SIGINT) or SIGTERM stops waiting for the
 * body and runs the same steps, then exits 130 or 143; a second signal exits at once.
 */
export async function runBench(name, body) {
  const steps = [];
  const cleanup = (...step) => steps.push(...step);
  let exitCode = 0;
  let interrupted;
  const interruption = new Promise((resolve) => {
    const onSignal = (signal) => {
      if (interrupted !== undefined) process.exit(exitCode);
      interrupted = signal;
      exitCode = signal === 'SIGINT' ? 130 : 143;
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    await Promise.race([Promise.resolve().then(() => body(cleanup)), interruption]);
    if (interrupted !== undefined) console.error(`${name} bench interrupted (${interrupted}): cleaning up`);
  } catch (error) {
    console.error(`${name} bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    exitCode = 1;
  } finally {
    for (const step of steps.reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((error) => console.warn(`cleanup step failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
  process.exit(exitCode);
}
