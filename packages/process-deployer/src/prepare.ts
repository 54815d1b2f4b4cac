import { access, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, RepoFileRefused, readRepoFile } from '@kraken/common';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, deployError } from '@kraken/runtime';
import type { StepLine } from '@kraken/runtime';
import { runCommand } from './commands.js';
import type { CommandOutcome, RunAs } from './commands.js';
import type { BuildPaths } from './layout.js';
import { formatOutput } from './lines.js';
import type { CompiledProcessOptions } from './options.js';
import { siteRoot, writeStaticServer } from './static-site.js';

/** The languages the process runtime runs; `custom` needs a Dockerfile and so a container engine. */
export type ProcessLang = 'node' | 'python3' | 'static';

export interface PreparedApp {
  /** argv of the supervised process. */
  command: string[];
  /** Added to the app's environment (PYTHONPATH for installed requirements...). */
  env: Record<string, string>;
}

export interface PrepareInput {
  deploymentId: string;
  lang: ProcessLang;
  manifest: Manifest;
  paths: BuildPaths;
  /** The app's environment, which installs run with too (registry settings from the manifest apply). */
  env: Readonly<Record<string, string>>;
  options: CompiledProcessOptions;
  line: StepLine;
  /** Ends the installs when the deployer closes (see runCommand). */
  signal?: AbortSignal;
  /** The installs' nice value (see runCommand): a failover build runs at 19 so that the apps and deploys here go first. */
  niceness?: number;
  /** The unprivileged user the installs run as (they run the packages' install scripts); undefined: the agent's. */
  runAs?: RunAs | undefined;
}

/**
 * The process runtime's "build": what the language template's image build does, done in the
 * checkout instead: dependencies for node and python, the file server for static.
 */
export async function prepareApp(input: PrepareInput): Promise<PreparedApp> {
  switch (input.lang) {
    case 'node':
      return prepareNode(input);
    case 'python3':
      return preparePython(input);
    case 'static':
      return prepareStatic(input);
  }
}

function shellCommand(input: PrepareInput, command: string): string[] {
  return [input.options.shell, '-c', command];
}

function runCommandOf(input: PrepareInput): string {
  // shipwreck requires run for node and python; kept as a guard for hand-made manifests
  const run = input.manifest.config.run;
  if (run === undefined) {
    throw deployError(ErrorCode.InvalidManifest, `shipwreck.toml: config.run is missing; ${input.lang} apps need the command that starts them`, {
      deploymentId: input.deploymentId,
      step: DeployStep.Build,
      details: { field: 'config.run' },
    });
  }
  return run;
}

interface PackageJson {
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
}

async function prepareNode(input: PrepareInput): Promise<PreparedApp> {
  const { deploymentId, paths, options, line } = input;
  const run = runCommandOf(input);
  const pkg = await readPackageJson(paths.app, deploymentId);
  // the test command (e.g. `npm test` running jest) usually needs the dev dependencies
  const withDev = input.manifest.config.test !== undefined;
  const wanted = Object.keys(pkg?.dependencies ?? {}).length + (withDev ? Object.keys(pkg?.devDependencies ?? {}).length : 0);
  if (wanted === 0) {
    line('build', pkg === undefined ? 'no package.json: nothing to install' : 'package.json has no dependencies to install');
    return { command: shellCommand(input, run), env: {} };
  }
  const lockfile = (await exists(path.join(paths.app, 'package-lock.json'))) || (await exists(path.join(paths.app, 'npm-shrinkwrap.json')));
  const args = [lockfile ? 'ci' : 'install', '--no-audit', '--no-fund', '--no-update-notifier', ...(withDev ? [] : ['--omit=dev'])];
  const shown = `npm ${args.join(' ')}`;
  line('build', `$ ${shown}`);
  const outcome = await runCommand([options.npm, ...args], {
    cwd: paths.app,
    env: input.env,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
    ...(input.niceness === undefined ? {} : { niceness: input.niceness }),
    runAs: input.runAs,
    timeoutMs: options.installTimeoutMs,
    tailLines: options.errorTailLines,
    onLine: (_stream, text) => {
      line('build', text);
    },
  });
  assertSucceeded(outcome, { deploymentId, what: shown, timeoutMs: options.installTimeoutMs, missing: `npm (${options.npm}) is not installed on this node; it is needed to install the dependencies in package.json` });
  return { command: shellCommand(input, run), env: {} };
}

async function readPackageJson(dir: string, deploymentId: string): Promise<PackageJson | undefined> {
  const text = await readCheckoutFile(dir, 'package.json', deploymentId);
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('it must hold a JSON object');
    return parsed;
  } catch (cause) {
    throw deployError(ErrorCode.InvalidInput, `package.json is not valid: ${(cause as Error).message}`, {
      deploymentId,
      step: DeployStep.Build,
      details: { file: 'package.json' },
      cause,
    });
  }
}

/** A bound on what the agent reads of a checkout's package.json or requirements.txt. */
const MAX_CHECKOUT_FILE_BYTES = 4 * 1024 * 1024;

/**
 * A file at the checkout's root that the agent reads itself, or undefined when there is none. A link
 * is refused: the checkout belongs to the app's user (or came so from the repository), and a link
 * could make the agent read its own secrets into an error message.
 */
async function readCheckoutFile(dir: string, name: string, deploymentId: string): Promise<string | undefined> {
  try {
    return await readRepoFile(path.join(dir, name), MAX_CHECKOUT_FILE_BYTES);
  } catch (cause) {
    if (!(cause instanceof RepoFileRefused)) return undefined;
    throw deployError(ErrorCode.InvalidInput, `${name} is not read: ${cause.message.replace(path.join(dir, name), name)}`, {
      deploymentId,
      step: DeployStep.Build,
      details: { file: name, refusal: cause.refusal },
      cause,
    });
  }
}

/** requirements.txt with at least one line that is not blank or a comment (what the python template checks). */
export function namesRequirements(text: string): boolean {
  return text.split('\n').some((raw) => {
    const line = raw.trim();
    return line !== '' && !line.startsWith('#');
  });
}

async function preparePython(input: PrepareInput): Promise<PreparedApp> {
  const { deploymentId, paths, options, line } = input;
  const run = runCommandOf(input);
  // print() output reaches the log file at once instead of when a block buffer fills
  const env: Record<string, string> = { PYTHONUNBUFFERED: input.env['PYTHONUNBUFFERED'] ?? '1' };
  const requirements = await readCheckoutFile(paths.app, 'requirements.txt', deploymentId);
  if (requirements === undefined || !namesRequirements(requirements)) {
    line('build', requirements === undefined ? 'no requirements.txt: nothing to install' : 'requirements.txt names no packages');
    return { command: shellCommand(input, run), env };
  }
  const commandOptions = {
    cwd: paths.app,
    env: input.env,
    tailLines: options.errorTailLines,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
    ...(input.niceness === undefined ? {} : { niceness: input.niceness }),
    runAs: input.runAs,
  };
  const pip = await runCommand([options.python, '-m', 'pip', '--version'], { ...commandOptions, timeoutMs: 60_000 });
  if (pip.kind !== 'exited' || pip.exitCode !== 0) {
    const detail = pip.kind === 'not-started' ? `${options.python} is not installed` : `\`${options.python} -m pip --version\` failed${formatOutput(pip.tail)}`;
    throw deployError(
      ErrorCode.Unavailable,
      `requirements.txt lists packages but pip is not available on this node (${detail}); install pip (e.g. apt-get install python3-pip) or deploy on a node with Docker`,
      { deploymentId, step: DeployStep.Build, details: { python: options.python } },
    );
  }
  if (input.runAs !== undefined) {
    // pip (as the account) cannot create its target in the deployment's folder, which is the agent's
    await mkdir(paths.pythonDeps, { recursive: true });
    await chown(paths.pythonDeps, input.runAs.uid, input.runAs.gid);
  }
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', paths.pythonDeps, '-r', 'requirements.txt'];
  line('build', `$ ${options.python} ${args.join(' ')}`);
  const outcome = await runCommand([options.python, ...args], {
    ...commandOptions,
    timeoutMs: options.installTimeoutMs,
    onLine: (_stream, text) => {
      line('build', text);
    },
  });
  assertSucceeded(outcome, { deploymentId, what: 'pip install -r requirements.txt', timeoutMs: options.installTimeoutMs, missing: `${options.python} is not installed on this node` });
  const existing = input.env['PYTHONPATH'];
  env['PYTHONPATH'] = existing === undefined || existing === '' ? paths.pythonDeps : `${paths.pythonDeps}${path.delimiter}${existing}`;
  return { command: shellCommand(input, run), env };
}

async function prepareStatic(input: PrepareInput): Promise<PreparedApp> {
  const { deploymentId, paths, options, manifest, line } = input;
  const root = await siteRoot(paths.app, manifest.config.root, deploymentId);
  if (manifest.config.run !== undefined) {
    // as in the static image, `run` replaces Kraken's file server
    line('build', `serving with the manifest's run command instead of the built-in file server`);
    return { command: shellCommand(input, manifest.config.run), env: {} };
  }
  await writeStaticServer(paths.staticServer);
  line('build', `serving ${path.relative(paths.app, root) || '.'} with the built-in file server`);
  return { command: [options.node, paths.staticServer, root], env: {} };
}

/** Turns a failed install into an error naming the command, with its last output lines. */
export function assertSucceeded(
  outcome: CommandOutcome,
  context: { deploymentId: string; what: string; missing: string; timeoutMs: number; step?: DeployStep },
): void {
  const base = { deploymentId: context.deploymentId, step: context.step ?? DeployStep.Build, details: { output: outcome.tail } };
  switch (outcome.kind) {
    case 'exited':
      if (outcome.exitCode === 0) return;
      throw deployError(ErrorCode.Internal, `${context.what} failed with exit code ${outcome.exitCode}${formatOutput(outcome.tail)}`, {
        ...base,
        details: { ...base.details, exitCode: outcome.exitCode },
      });
    case 'signalled':
      throw deployError(ErrorCode.Internal, `${context.what} was killed by ${outcome.signal}${formatOutput(outcome.tail)}`, base);
    case 'aborted':
      throw deployError(ErrorCode.Closed, `${context.what} was stopped: the deployer closed (the agent is stopping)${formatOutput(outcome.tail)}`, base);
    case 'timeout':
      throw deployError(ErrorCode.Timeout, `${context.what} did not finish within ${Math.round(context.timeoutMs / 1000)} s${formatOutput(outcome.tail)}`, base);
    case 'not-started':
      throw deployError(ErrorCode.Unavailable, `${context.missing} (${outcome.error.message})`, { ...base, cause: outcome.error });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
