// A worker inside one lab namespace for the integration tests (started with `ip netns exec`, so its
// multicast and probes stay in the lab). Starting node with the TypeScript sources takes seconds on
// a busy machine, so one worker per host takes many jobs: JSON lines on stdin, each
// `{ id, command }`; every event it writes to stdout carries the job id. Ends (stopping every job,
// so announcers send their goodbye) on stdin's end or SIGTERM.
import http from 'node:http';
import { createInterface } from 'node:readline';
import { announce, browse, findOrchestrator, findOrchestrators, pingHeaders, scanSubnet } from '../src/index.js';
import type {
  AnnounceOptions,
  BrowseOptions,
  FindOrchestratorOptions,
  FindOrchestratorsOptions,
  ScanOptions,
} from '../src/index.js';

export type LabJob =
  | { mode: 'announce'; options: AnnounceOptions }
  | { mode: 'browse'; options: Omit<BrowseOptions, 'onCandidate' | 'onGone'> }
  | { mode: 'find'; options: FindOrchestratorOptions }
  | { mode: 'find-all'; options: FindOrchestratorsOptions }
  | { mode: 'scan'; options: Omit<ScanOptions, 'onCandidate' | 'onProgress' | 'signal'> }
  | { mode: 'ping-server'; port: number; clusterId?: string; protocolVersion?: string; body?: string }
  /** Ends a running job (announce, browse, ping-server) gracefully. */
  | { mode: 'stop'; job: number };

interface LabJobRequest {
  id: number;
  job: LabJob;
}

const running = new Map<number, () => Promise<void>>();

function report(id: number, event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ id, event, at: Date.now(), ...fields })}\n`);
}

function pingServer(job: Extract<LabJob, { mode: 'ping-server' }>): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/ping') {
      response.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    if (job.clusterId !== undefined) headers[pingHeaders.clusterId] = job.clusterId;
    if (job.protocolVersion !== undefined) headers[pingHeaders.protocolVersion] = job.protocolVersion;
    response.writeHead(200, headers).end(job.body ?? 'pong');
  });
  return new Promise((resolve) =>
    server.listen(job.port, '0.0.0.0', () => {
      resolve(server);
    }),
  );
}

async function run(id: number, job: LabJob): Promise<void> {
  switch (job.mode) {
    case 'announce': {
      const announcement = await announce(job.options);
      running.set(id, () => announcement.stop());
      report(id, 'announced', { txt: announcement.txt });
      return;
    }
    case 'browse': {
      const browsing = await browse({
        ...job.options,
        onCandidate: (candidate) => {
          report(id, 'candidate', { candidate });
        },
        onGone: (candidate) => {
          report(id, 'gone', { candidate });
        },
      });
      running.set(id, () => browsing.stop());
      report(id, 'browsing');
      return;
    }
    case 'find': {
      const started = Date.now();
      const candidate = await findOrchestrator(job.options);
      report(id, 'found', { candidate: candidate ?? null, elapsedMs: Date.now() - started });
      return;
    }
    case 'find-all': {
      const started = Date.now();
      const candidates = await findOrchestrators(job.options);
      report(id, 'found-all', { candidates, elapsedMs: Date.now() - started });
      return;
    }
    case 'scan': {
      const started = Date.now();
      let firstFoundMs: number | null = null;
      const result = await scanSubnet({
        ...job.options,
        onCandidate: () => {
          firstFoundMs ??= Date.now() - started;
        },
      });
      report(id, 'scanned', { result, firstFoundMs, elapsedMs: Date.now() - started });
      return;
    }
    case 'ping-server': {
      const server = await pingServer(job);
      running.set(
        id,
        () =>
          new Promise((resolve) =>
            server.close(() => {
              resolve();
            }),
          ),
      );
      report(id, 'listening');
      return;
    }
    case 'stop': {
      const stop = running.get(job.job);
      running.delete(job.job);
      await stop?.();
      report(id, 'stopped', { job: job.job });
      return;
    }
  }
}

async function shutdown(): Promise<void> {
  await Promise.all([...running.values()].map((stop) => stop()));
  process.exit(0);
}

process.once('SIGTERM', () => void shutdown());
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const request = JSON.parse(line) as LabJobRequest;
  run(request.id, request.job).catch((error: unknown) => {
    report(request.id, 'error', { message: error instanceof Error ? error.message : String(error) });
  });
});
lines.on('close', () => void shutdown());
report(0, 'ready');
