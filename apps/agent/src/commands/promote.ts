import http from 'node:http';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { ExitCode, exitCodeOf } from '../client/exit-codes.js';
import type { CommandIo } from '../client/io.js';
import { CONTROL_SOCKET } from '../executors/control-executor.js';
import type { PromotionReport } from '../executors/control-executor.js';

/** Longer than the agent's own wait for the takeover (120 s), so the agent's answer is what the user sees. */
const ANSWER_TIMEOUT_MS = 180_000;

/**
 * `kraken promote`: makes this machine's standby lead a two-machine cluster whose leader's machine
 * is gone. Asks the agent on its control socket (the data dir's owner only), and says what is lost.
 */
export async function promoteCommand(options: { dataDir: string; json: boolean }, io: CommandIo): Promise<ExitCode> {
  const socketPath = path.join(options.dataDir, CONTROL_SOCKET);
  if (!options.json) {
    io.err(
      "kraken: asking this machine's agent to lead without the other machine: its RabbitMQ node goes on alone (messages queued only on the other machine are dropped)...",
    );
  }
  try {
    const report = await postPromote(socketPath);
    if (options.json) {
      io.out(JSON.stringify(report));
    } else {
      io.out(
        `${report.nodeId} leads the cluster now (took ${(report.tookMs / 1000).toFixed(1)} s); it went on without ${report.leftOut.join(', ') || 'no other member'}.`,
      );
      io.out("Start the other machine's agent again when it is back: it joins as a standby and takes its state from this one.");
    }
    return ExitCode.Ok;
  } catch (error) {
    io.err(`kraken: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodeOf(error);
  }
}

function postPromote(socketPath: string): Promise<PromotionReport> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, method: 'POST', path: '/promote', timeout: ANSWER_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PromotionReport & {
            error?: { code: string; message: string };
          };
          if (response.statusCode === 200) resolve(body);
          else
            reject(
              new KrakenError(
                (body.error?.code as ErrorCode | undefined) ?? ErrorCode.Internal,
                body.error?.message ?? `the agent answered HTTP ${String(response.statusCode)}`,
              ),
            );
        } catch (error) {
          reject(
            new KrakenError(ErrorCode.Internal, `the agent's answer was not JSON (HTTP ${String(response.statusCode)})`, {
              cause: error,
            }),
          );
        }
      });
    });
    request.on('timeout', () => {
      request.destroy(
        new KrakenError(ErrorCode.Timeout, `the agent did not answer within ${ANSWER_TIMEOUT_MS / 1000} s; see its log`),
      );
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof KrakenError) reject(error);
      else if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(
          new KrakenError(
            ErrorCode.Unavailable,
            `no agent runs with this data dir (nothing answers on ${socketPath}); give --data-dir as the agent was started with`,
          ),
        );
      } else if (error.code === 'EACCES') {
        reject(
          new KrakenError(
            ErrorCode.Unauthorized,
            `may not use ${socketPath}: run kraken promote as the user the agent runs as (or root)`,
          ),
        );
      } else reject(new KrakenError(ErrorCode.Unavailable, `could not reach the agent on ${socketPath}: ${error.message}`));
    });
    request.end();
  });
}
