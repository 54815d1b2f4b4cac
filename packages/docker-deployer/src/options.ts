import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { noopLogger, optionChecks } from '@kraken/common';
import type { Logger } from '@kraken/common';

const { invalid, duration, positiveDuration, numberIn } = optionChecks('docker-deployer');

/** What the app passes in. Durations are milliseconds or strings like "30s". */
export interface DockerDeployerOptions {
  /** The engine client (`new Docker({ socketPath })`); the app owns it. */
  docker: Docker;
  /** This machine's node id: written to `org.kraken.node` and used to find its containers again. */
  nodeId: string;
  /** Folder for build checkouts (`<workDir>/builds/...`); created when missing. */
  workDir: string;
  /** @default noopLogger */
  logger?: Logger;
  /**
   * Folder with `node/Dockerfile`, `python/Dockerfile`, `static/Dockerfile`.
   * @default the package's own `templates/` (copied from the repository's `dockerfiles/` at build time)
   */
  templatesDir?: string;
  /** `BASE_IMAGE` build argument per template; unset uses the template's own default (e.g. `kraken-base/node:20`). */
  baseImages?: Partial<Record<'node' | 'python3' | 'static', string>>;
  /** Extra build arguments for every template build (e.g. `NPM_CONFIG_REGISTRY`, `PIP_INDEX_URL`). @default {} */
  buildArgs?: Record<string, string>;
  /** Limit for `git clone` (and `git ls-remote`). @default '2m' */
  cloneTimeout?: string | number;
  /** Limit for an image build. @default '15m' */
  buildTimeout?: string | number;
  /** Limit for the manifest's test command. @default '5m' */
  testTimeout?: string | number;
  /** How long a started app has to answer HTTP on its port. @default '30s' */
  readyTimeout?: string | number;
  /** Grace between SIGTERM and SIGKILL when stopping (Docker counts whole seconds). @default '5s' */
  stopTimeout?: string | number;
  /** Gap between the two stats samples that cpu% is computed from. @default '500ms' */
  statsInterval?: string | number;
  /** Memory limit when the manifest sets none. @default 512 */
  defaultMemoryMb?: number;
  /** CPU limit when the manifest sets none; 0 means no limit. @default 1 */
  defaultCpus?: number;
  /** How many last output lines go into error messages. @default 20 */
  errorTailLines?: number;
}

export interface CompiledDeployerOptions {
  docker: Docker;
  nodeId: string;
  workDir: string;
  logger: Logger;
  templatesDir: string;
  baseImages: Partial<Record<'node' | 'python3' | 'static', string>>;
  buildArgs: Record<string, string>;
  cloneTimeoutMs: number;
  buildTimeoutMs: number;
  testTimeoutMs: number;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  statsIntervalMs: number;
  defaultMemoryMb: number;
  defaultCpus: number;
  errorTailLines: number;
}

export const defaultOptions = {
  cloneTimeout: '2m',
  buildTimeout: '15m',
  testTimeout: '5m',
  readyTimeout: '30s',
  stopTimeout: '5s',
  statsInterval: '500ms',
  defaultMemoryMb: 512,
  defaultCpus: 1,
  errorTailLines: 20,
} as const;

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Fills defaults, validates, and turns durations into `...Ms` numbers. Throws InvalidConfig naming the option. */
export function compileOptions(options: DockerDeployerOptions): CompiledDeployerOptions {
  if (!NODE_ID.test(options.nodeId)) {
    throw invalid('nodeId', `must be 1-128 characters of letters, digits, '_', '.', ':' or '-' (it becomes a label value); got ${JSON.stringify(options.nodeId)}`);
  }
  if (options.workDir.trim() === '' || !path.isAbsolute(options.workDir)) {
    throw invalid('workDir', `must be an absolute path; got ${JSON.stringify(options.workDir)}`);
  }
  const templatesDir = options.templatesDir ?? defaultTemplatesDir();
  if (!path.isAbsolute(templatesDir)) throw invalid('templatesDir', `must be an absolute path; got ${JSON.stringify(templatesDir)}`);
  return {
    docker: options.docker,
    nodeId: options.nodeId,
    workDir: options.workDir,
    logger: options.logger ?? noopLogger,
    templatesDir,
    baseImages: { ...options.baseImages },
    buildArgs: { ...options.buildArgs },
    cloneTimeoutMs: positiveDuration('cloneTimeout', options.cloneTimeout ?? defaultOptions.cloneTimeout),
    buildTimeoutMs: positiveDuration('buildTimeout', options.buildTimeout ?? defaultOptions.buildTimeout),
    testTimeoutMs: positiveDuration('testTimeout', options.testTimeout ?? defaultOptions.testTimeout),
    readyTimeoutMs: positiveDuration('readyTimeout', options.readyTimeout ?? defaultOptions.readyTimeout),
    stopTimeoutMs: duration('stopTimeout', options.stopTimeout ?? defaultOptions.stopTimeout),
    statsIntervalMs: positiveDuration('statsInterval', options.statsInterval ?? defaultOptions.statsInterval),
    defaultMemoryMb: numberIn('defaultMemoryMb', options.defaultMemoryMb ?? defaultOptions.defaultMemoryMb, 6, 1024 * 1024),
    defaultCpus: numberIn('defaultCpus', options.defaultCpus ?? defaultOptions.defaultCpus, 0, 1024),
    errorTailLines: Math.trunc(numberIn('errorTailLines', options.errorTailLines ?? defaultOptions.errorTailLines, 1, 10_000)),
  };
}

/**
 * `<package>/templates`: this file is `src/options.ts` in the repository and `dist/options.js` when
 * published, both one level below the package root.
 */
export function defaultTemplatesDir(): string {
  const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  return path.join(packageRoot, 'templates');
}

