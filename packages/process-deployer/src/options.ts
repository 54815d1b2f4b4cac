import path from 'node:path';
import { noopLogger, optionChecks, systemClock } from '@kraken/common';
import type { Clock, Logger } from '@kraken/common';
import { compileRuntimeOptions, defaultRuntimeOptions } from '@kraken/runtime';
import type { CompiledRuntimeOptions, RuntimeOptions } from '@kraken/runtime';

const checks = optionChecks('process-deployer');
const { invalid, positiveDuration, numberIn } = checks;

/** What the app passes in (and the settings every runtime takes). Durations are milliseconds or strings like "30s". */
export interface ProcessDeployerOptions extends RuntimeOptions {
  /**
   * Folder this deployer owns (e.g. `<agent data dir>/process`): one sub-folder per deployment with
   * its checkout, log files and state file. Created when missing. One live deployer per folder.
   */
  dataDir: string;
  /** This machine's node id, recorded in every state file. */
  nodeId: string;
  /** @default noopLogger */
  logger?: Logger;
  /** @default systemClock */
  clock?: Clock;
  /**
   * Environment every app, install and test starts from (the manifest's and the request's env are
   * added on top). Apps do not inherit the agent's whole environment, as containers would not.
   * @default PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR and npm_config_* / PIP_* taken from the agent's environment
   */
  baseEnv?: Readonly<Record<string, string>>;
  /** Shell that runs the manifest's `run` and `test` commands (as `<shell> -c <command>`). @default '/bin/sh' */
  shell?: string;
  /** npm used for node dependencies. @default 'npm' */
  npm?: string;
  /** Python used for `pip install` of requirements.txt (the run command finds its own on PATH). @default 'python3' */
  python?: string;
  /** Node that runs the built-in static file server. @default process.execPath */
  node?: string;
  /** Limit for installing dependencies (npm, pip). @default '10m' */
  installTimeout?: string | number;
  /** First wait before restarting a crashed app; doubles on each crash in a row. @default '1s' */
  restartDelay?: string | number;
  /** Longest wait between restarts. @default '30s' */
  maxRestartDelay?: string | number;
  /** An app that ran this long before crashing restarts after `restartDelay` again. @default '1m' */
  stableAfter?: string | number;
  /** How often processes this deployer did not start itself (adopted) are checked for life, and log files held to maxLogBytes. @default '1s' */
  pollInterval?: string | number;
  /** How often followLogs looks for new output (a quiet app's, up to 8 times less often). @default '250ms' */
  logPollInterval?: string | number;
  /**
   * The most bytes of output a log file keeps: beyond it its oldest lines are counted and punched
   * out (a hole: the file's size stays, its disk use does not grow). @default 10 MiB
   */
  maxLogBytes?: number;
  /**
   * How long the version a redeploy replaced keeps running after the new one took over (its port
   * reported), so that the ingress, which follows the reported port, and the requests it already
   * sent there finish before it stops.
   * @default '10s'
   */
  drainTime?: string | number;
  /**
   * Where the kernel's control groups are mounted: apps with memory or CPU limits run in a group of
   * their own there (v2, or v1's memory and cpu hierarchies), when the agent may create one.
   * @default '/sys/fs/cgroup'
   */
  cgroupRoot?: string;
  /**
   * The unprivileged user apps, their installs and tests run as, so that an app cannot read the
   * agent's files or signal it. Created (`useradd --system`) when missing; it applies only where
   * the deployer runs as root and that user can enter `dataDir` and run `node` from the apps'
   * PATH: elsewhere apps run as the deployer's own user, and it logs why. `dataDir` must then be
   * outside any folder that user cannot enter (a home dir such as /root, a 0700 data dir).
   * @default undefined (apps run as the deployer's user)
   */
  appUser?: string;
}

export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  stableAfterMs: number;
}

export interface CompiledProcessOptions extends CompiledRuntimeOptions {
  dataDir: string;
  nodeId: string;
  logger: Logger;
  clock: Clock;
  baseEnv: Readonly<Record<string, string>>;
  shell: string;
  npm: string;
  python: string;
  node: string;
  installTimeoutMs: number;
  restart: RestartPolicy;
  pollIntervalMs: number;
  logPollIntervalMs: number;
  maxLogBytes: number;
  drainTimeMs: number;
  cgroupRoot: string;
  appUser: string | undefined;
}

export const defaultProcessOptions = {
  shell: '/bin/sh',
  npm: 'npm',
  python: 'python3',
  ...defaultRuntimeOptions,
  installTimeout: '10m',
  restartDelay: '1s',
  maxRestartDelay: '30s',
  stableAfter: '1m',
  pollInterval: '1s',
  logPollInterval: '250ms',
  maxLogBytes: 10 * 1024 * 1024,
  drainTime: '10s',
  cgroupRoot: '/sys/fs/cgroup',
} as const;

/** What useradd accepts on every distribution (lower case, at most 32 characters). */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const PASSED_THROUGH = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|npm_config_[A-Za-z_]+|NPM_CONFIG_[A-Z_]+|PIP_[A-Z_]+)$/;

/** Fills defaults, validates, and turns durations into `...Ms` numbers. Throws InvalidConfig naming the option. */
export function compileProcessOptions(options: ProcessDeployerOptions): CompiledProcessOptions {
  if (!NODE_ID.test(options.nodeId)) {
    throw invalid('nodeId', `must be 1-128 characters of letters, digits, '_', '.', ':' or '-'; got ${JSON.stringify(options.nodeId)}`);
  }
  if (options.dataDir.trim() === '' || !path.isAbsolute(options.dataDir)) {
    throw invalid('dataDir', `must be an absolute path; got ${JSON.stringify(options.dataDir)}`);
  }
  const restart: RestartPolicy = {
    initialMs: positiveDuration('restartDelay', options.restartDelay ?? defaultProcessOptions.restartDelay),
    maxMs: positiveDuration('maxRestartDelay', options.maxRestartDelay ?? defaultProcessOptions.maxRestartDelay),
    stableAfterMs: positiveDuration('stableAfter', options.stableAfter ?? defaultProcessOptions.stableAfter),
  };
  if (restart.maxMs < restart.initialMs) {
    throw invalid('maxRestartDelay', `must be at least restartDelay (${restart.initialMs} ms); got ${restart.maxMs} ms`);
  }
  return {
    dataDir: path.resolve(options.dataDir),
    nodeId: options.nodeId,
    logger: options.logger ?? noopLogger,
    clock: options.clock ?? systemClock,
    baseEnv: { ...(options.baseEnv ?? defaultBaseEnv(process.env)) },
    shell: command('shell', options.shell ?? defaultProcessOptions.shell),
    npm: command('npm', options.npm ?? defaultProcessOptions.npm),
    python: command('python', options.python ?? defaultProcessOptions.python),
    node: command('node', options.node ?? process.execPath),
    ...compileRuntimeOptions(options, checks),
    installTimeoutMs: positiveDuration('installTimeout', options.installTimeout ?? defaultProcessOptions.installTimeout),
    restart,
    pollIntervalMs: positiveDuration('pollInterval', options.pollInterval ?? defaultProcessOptions.pollInterval),
    logPollIntervalMs: positiveDuration('logPollInterval', options.logPollInterval ?? defaultProcessOptions.logPollInterval),
    maxLogBytes: Math.trunc(numberIn('maxLogBytes', options.maxLogBytes ?? defaultProcessOptions.maxLogBytes, 4096, Number.MAX_SAFE_INTEGER)),
    drainTimeMs: positiveDuration('drainTime', options.drainTime ?? defaultProcessOptions.drainTime),
    cgroupRoot: absolutePath('cgroupRoot', options.cgroupRoot ?? defaultProcessOptions.cgroupRoot),
    appUser: options.appUser === undefined ? undefined : userName('appUser', options.appUser),
  };
}

/** The part of the agent's environment an app needs to find its tools and package registries, and nothing else. */
export function defaultBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && PASSED_THROUGH.test(name)) picked[name] = value;
  }
  picked['PATH'] ??= '/usr/local/bin:/usr/bin:/bin';
  return picked;
}

function command(name: string, value: string): string {
  if (value.trim() === '') throw invalid(name, 'must name a program (a path or a name on PATH); got an empty string');
  return value;
}

function userName(name: string, value: string): string {
  if (!USER_NAME.test(value)) throw invalid(name, `must be a user name of 1-32 lower-case letters, digits, '_' or '-', not starting with a digit or '-'; got ${JSON.stringify(value)}`);
  return value;
}

function absolutePath(name: string, value: string): string {
  if (!path.isAbsolute(value)) throw invalid(name, `must be an absolute path; got ${JSON.stringify(value)}`);
  return value;
}
