import { execFile } from 'node:child_process';
import { ErrorCode, KrakenError } from '@kraken/common';

export interface ResolveBranchHeadOptions {
  /** Gives up (rejects) when aborted, e.g. when the orchestrator stops. */
  signal?: AbortSignal;
}

/** Finds the commit a branch points at in a remote; undefined when the branch does not exist. */
export type ResolveBranchHead = (
  srcUrl: string,
  branch: string,
  options?: ResolveBranchHeadOptions,
) => Promise<string | undefined>;

/**
 * `git ls-remote` with a timeout and no prompts: a remote that asks for credentials or hangs
 * must fail the request, not hold it. The url was validated as a git remote when the deployment
 * was created (no `-` options, no `ext::`), and `--` ends option parsing anyway.
 */
export function gitLsRemote(timeoutMs = 15_000): ResolveBranchHead {
  return (srcUrl, branch, options = {}) =>
    new Promise((resolve, reject) => {
      execFile(
        'git',
        ['ls-remote', '--heads', '--', srcUrl, `refs/heads/${branch}`],
        {
          timeout: timeoutMs,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' },
          maxBuffer: 1024 * 1024,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
        (error, stdout, stderr) => {
          if (error !== null) {
            const aborted = options.signal?.aborted === true;
            const timedOut = !aborted && error.killed;
            reject(
              new KrakenError(
                timedOut ? ErrorCode.Timeout : ErrorCode.Unavailable,
                aborted
                  ? `git ls-remote ${srcUrl} was cancelled`
                  : timedOut
                    ? `git ls-remote ${srcUrl} did not answer within ${timeoutMs} ms`
                    : `git ls-remote ${srcUrl} failed: ${stderr.trim() || error.message}`,
                { cause: error },
              ),
            );
            return;
          }
          const line = stdout.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
          resolve(line?.split('\t')[0]);
        },
      );
    });
}
