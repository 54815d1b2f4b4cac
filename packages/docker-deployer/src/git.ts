import { execFile } from 'node:child_process';
import { ErrorCode } from '@kraken/common';
import type { KrakenError } from '@kraken/common';
import { DeployStep, deployError } from './errors.js';

export interface GitResult {
  stdout: string;
  stderr: string;
}

class GitFailure extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/**
 * Runs git without ever waiting on a person: no terminal prompt for credentials, ssh in batch mode
 * (no password or host-key questions), and a hard time limit.
 */
export function runGit(args: string[], options: { cwd?: string; timeoutMs: number }): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          GIT_SSH_COMMAND: process.env['GIT_SSH_COMMAND'] ?? 'ssh -o BatchMode=yes',
          LC_ALL: 'C',
        },
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const timedOut = error.killed === true && error.signal === 'SIGKILL';
        reject(new GitFailure(error.message, stderr, timedOut));
      },
    );
  });
}

/** Branch names git accepts for `--branch`, minus anything that could be read as an option. */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[^\s~^:?*[\\\p{Cc}]{1,255}(?<![./])$/u;

export function validateBranch(branch: string, deploymentId: string): void {
  if (!BRANCH.test(branch) || branch.endsWith('.lock')) {
    throw deployError(ErrorCode.InvalidInput, `branch ${JSON.stringify(branch)} is not a valid git branch name`, {
      deploymentId,
      step: DeployStep.Clone,
      details: { field: 'branch' },
    });
  }
}

export function validateUrl(url: string, deploymentId: string): void {
  if (url.trim() === '' || url.startsWith('-') || /\p{Cc}/u.test(url)) {
    throw deployError(ErrorCode.InvalidInput, `repository URL ${JSON.stringify(url)} is not a git remote (use a path, file://, http(s):// or ssh URL)`, {
      deploymentId,
      step: DeployStep.Clone,
      details: { field: 'url' },
    });
  }
}

export interface CloneResult {
  commit: string;
}

/** Shallow clone of one branch into `dir` (which must not exist), returning the checked-out commit. */
export async function shallowClone(
  request: { url: string; branch: string; dir: string; deploymentId: string },
  timeoutMs: number,
): Promise<CloneResult> {
  const { url, branch, dir, deploymentId } = request;
  validateUrl(url, deploymentId);
  validateBranch(branch, deploymentId);
  try {
    await runGit(['clone', '--quiet', '--depth', '1', '--branch', branch, '--single-branch', '--no-tags', '--', url, dir], { timeoutMs });
  } catch (error) {
    throw await describeCloneFailure(error, request, timeoutMs);
  }
  const { stdout } = await runGit(['rev-parse', 'HEAD'], { cwd: dir, timeoutMs });
  return { commit: stdout.trim() };
}

async function describeCloneFailure(error: unknown, request: { url: string; branch: string; deploymentId: string }, timeoutMs: number): Promise<KrakenError> {
  const { url, branch, deploymentId } = request;
  const context = { deploymentId, step: DeployStep.Clone, cause: error };
  if (!(error instanceof GitFailure)) {
    return deployError(ErrorCode.Internal, `could not run git: ${String(error)}`, context);
  }
  if (error.timedOut) {
    return deployError(ErrorCode.Unavailable, `git clone of ${url} did not finish within ${Math.round(timeoutMs / 1000)} s`, context);
  }
  const gitSays = lastLines(error.stderr);
  if (/Remote branch .* not found|couldn't find remote ref/i.test(error.stderr)) {
    const branches = await listBranches(url, timeoutMs);
    const known = branches.length === 0 ? '' : `; it has ${formatList(branches)}`;
    return deployError(ErrorCode.InvalidInput, `branch ${JSON.stringify(branch)} does not exist in ${url}${known}`, {
      ...context,
      details: { field: 'branch', branches },
    });
  }
  return deployError(ErrorCode.InvalidInput, `cannot clone ${url}: it is unreachable or not a git repository (git: ${gitSays})`, {
    ...context,
    details: { field: 'url' },
  });
}

async function listBranches(url: string, timeoutMs: number): Promise<string[]> {
  try {
    const { stdout } = await runGit(['ls-remote', '--heads', '--', url], { timeoutMs });
    return stdout
      .split('\n')
      .map((line) => line.split('\t')[1]?.replace(/^refs\/heads\//, ''))
      .filter((name): name is string => name !== undefined && name !== '');
  } catch {
    return [];
  }
}

function formatList(names: string[]): string {
  const shown = names.slice(0, 10).map((name) => JSON.stringify(name));
  return names.length > 10 ? `${shown.join(', ')} and ${names.length - 10} more` : shown.join(', ');
}

function lastLines(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return lines.slice(-3).join(' / ') || 'no message';
}
