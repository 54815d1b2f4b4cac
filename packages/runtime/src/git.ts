import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode } from '@kraken/common';
import type { KrakenError } from '@kraken/common';
import { DeployStep, deployError } from './errors.js';

interface GitResult {
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
function runGit(args: string[], options: { cwd?: string; timeoutMs: number }): Promise<GitResult> {
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

/** A full sha or an abbreviation git would accept (at least 4 hex digits). */
const COMMIT = /^[0-9a-f]{4,40}$/i;
const FULL_SHA = /^[0-9a-f]{40}$/;

export function validateCommit(commit: string, deploymentId: string): void {
  if (!COMMIT.test(commit)) {
    throw deployError(ErrorCode.InvalidInput, `commit ${JSON.stringify(commit)} is not a commit sha (4 to 40 hex digits, such as 1a2b3c4)`, {
      deploymentId,
      step: DeployStep.Clone,
      details: { field: 'commit' },
    });
  }
}

export interface CloneResult {
  /** The full sha of the checked-out commit. */
  commit: string;
}

export interface CloneRequest {
  url: string;
  branch: string;
  /** Checks out this commit (full or abbreviated sha) instead of the branch head. */
  commit?: string;
  /** Must not exist yet. */
  dir: string;
  deploymentId: string;
}

/**
 * Shallow clone of one branch into `dir`, returning the checked-out commit. With `commit`, the
 * clone is left at that commit: fetched alone by its sha when it is not the branch head (see
 * checkoutCommit).
 */
export async function shallowClone(request: CloneRequest, timeoutMs: number): Promise<CloneResult> {
  const { url, branch, dir, deploymentId } = request;
  validateUrl(url, deploymentId);
  validateBranch(branch, deploymentId);
  if (request.commit !== undefined) validateCommit(request.commit, deploymentId);
  try {
    await runGit(['clone', '--quiet', '--depth', '1', '--branch', branch, '--single-branch', '--no-tags', '--', url, dir], { timeoutMs });
  } catch (error) {
    throw await describeCloneFailure(error, request, timeoutMs);
  }
  const head = (await readHead(dir)) ?? (await resolveCommit(dir, 'HEAD', timeoutMs));
  if (head === undefined) {
    throw deployError(ErrorCode.Internal, `could not read the commit of the clone of branch ${JSON.stringify(branch)} of ${url}`, { deploymentId, step: DeployStep.Clone });
  }
  const wanted = request.commit?.toLowerCase();
  if (wanted === undefined || head.startsWith(wanted)) return { commit: head };
  return { commit: await checkoutCommit({ ...request, commit: wanted, head }, timeoutMs) };
}

/**
 * Moves a fresh shallow clone to `commit`. A full sha is fetched on its own (`git fetch --depth 1
 * origin <sha>`), so an old commit costs one commit's objects, not the history. An abbreviation
 * cannot be fetched by name, so the branch's history is fetched and the abbreviation looked up in
 * it. A local clone already has the history (git ignores --depth for a path), so nothing is fetched.
 */
async function checkoutCommit(request: CloneRequest & { commit: string; head: string }, timeoutMs: number): Promise<string> {
  const { url, branch, dir, commit, deploymentId } = request;
  let found = await resolveCommit(dir, commit, timeoutMs);
  if (found === undefined) {
    try {
      if (FULL_SHA.test(commit)) {
        await runGit(['fetch', '--quiet', '--depth', '1', '--no-tags', 'origin', commit], { cwd: dir, timeoutMs });
      } else {
        const { stdout } = await runGit(['rev-parse', '--is-shallow-repository'], { cwd: dir, timeoutMs });
        const unshallow = stdout.trim() === 'true' ? ['--unshallow'] : [];
        await runGit(['fetch', '--quiet', '--no-tags', ...unshallow, 'origin', branch], { cwd: dir, timeoutMs });
      }
    } catch (error) {
      if (!(error instanceof GitFailure) || error.timedOut || !NO_SUCH_OBJECT.test(error.stderr)) {
        throw describeFetchFailure(error, request, timeoutMs);
      }
    }
    found = await resolveCommit(dir, commit, timeoutMs);
  }
  if (found === undefined) {
    throw deployError(
      ErrorCode.InvalidInput,
      `commit ${commit} does not exist in ${url} (looked for it by sha and on branch ${JSON.stringify(branch)}, whose head is ${request.head.slice(0, 12)}); ` +
        'give a full sha or an abbreviation of a commit of that branch',
      { deploymentId, step: DeployStep.Clone, details: { field: 'commit', commit, branch, head: request.head } },
    );
  }
  try {
    await runGit(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', found], { cwd: dir, timeoutMs });
  } catch (error) {
    throw deployError(ErrorCode.Internal, `could not check out commit ${found} of ${url}: ${error instanceof GitFailure ? lastLines(error.stderr) : String(error)}`, {
      deploymentId,
      step: DeployStep.Clone,
      cause: error,
    });
  }
  return found;
}

/**
 * The commit a fresh clone checked out, read from `.git/HEAD` and the loose ref it names: a deploy
 * spends one git process less (tens of ms on a busy machine). Undefined for any other layout
 * (packed or reftable refs), which the caller resolves with `git rev-parse`.
 */
async function readHead(dir: string): Promise<string | undefined> {
  try {
    const head = (await readFile(path.join(dir, '.git', 'HEAD'), 'utf8')).trim();
    const ref = /^ref: (refs\/heads\/[^\s]+)$/.exec(head)?.[1];
    const sha = ref === undefined ? head : (await readFile(path.join(dir, '.git', ...ref.split('/')), 'utf8')).trim();
    return FULL_SHA.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** What servers and git say for a sha they do not have (or will not serve by sha). */
const NO_SUCH_OBJECT = /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|not a valid object|bad object/i;

/** The full sha `revision` names in `dir` when it is a commit there; undefined when it is not (or is ambiguous). */
async function resolveCommit(dir: string, revision: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const { stdout } = await runGit(['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd: dir, timeoutMs });
    const sha = stdout.trim();
    return FULL_SHA.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

function describeFetchFailure(error: unknown, request: { url: string; commit: string; deploymentId: string }, timeoutMs: number): KrakenError {
  const { url, commit, deploymentId } = request;
  const context = { deploymentId, step: DeployStep.Clone, cause: error };
  if (error instanceof GitFailure && error.timedOut) {
    return deployError(ErrorCode.Unavailable, `git fetch of commit ${commit} from ${url} did not finish within ${Math.round(timeoutMs / 1000)} s`, context);
  }
  const gitSays = error instanceof GitFailure ? lastLines(error.stderr) : String(error);
  return deployError(ErrorCode.Unavailable, `could not fetch commit ${commit} from ${url} (git: ${gitSays})`, context);
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
