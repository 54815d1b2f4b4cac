import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { noopLogger, optionChecks } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { compileRuntimeOptions, defaultRuntimeOptions } from '@kraken/runtime';
import type { CompiledRuntimeOptions, RuntimeOptions } from '@kraken/runtime';

const checks = optionChecks('docker-deployer');
const { invalid, positiveDuration, numberIn } = checks;

/** What the app passes in (and the settings every runtime takes). Durations are milliseconds or strings like "30s". */
export interface DockerDeployerOptions extends RuntimeOptions {
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
  /** Limit for an image build. @default '15m' */
  buildTimeout?: string | number;
  /** Memory limit when the manifest sets none. @default 512 */
  defaultMemoryMb?: number;
  /** CPU limit when the manifest sets none; 0 means no limit. @default 1 */
  defaultCpus?: number;
}

export interface CompiledDeployerOptions extends CompiledRuntimeOptions {
  docker: Docker;
  nodeId: string;
  workDir: string;
  logger: Logger;
  templatesDir: string;
  baseImages: Partial<Record<'node' | 'python3' | 'static', string>>;
  buildArgs: Record<string, string>;
  buildTimeoutMs: number;
  defaultMemoryMb: number;
  defaultCpus: number;
}

export const defaultOptions = {
  ...defaultRuntimeOptions,
  buildTimeout: '15m',
  defaultMemoryMb: 512,
  defaultCpus: 1,
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
    ...compileRuntimeOptions(options, checks),
    buildTimeoutMs: positiveDuration('buildTimeout', options.buildTimeout ?? defaultOptions.buildTimeout),
    defaultMemoryMb: numberIn('defaultMemoryMb', options.defaultMemoryMb ?? defaultOptions.defaultMemoryMb, 6, 1024 * 1024),
    defaultCpus: numberIn('defaultCpus', options.defaultCpus ?? defaultOptions.defaultCpus, 0, 1024),
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

