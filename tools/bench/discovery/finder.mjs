// Runs inside one lab namespace (started by run.mjs with `ip netns exec`), so its multicast and
// probes stay in the lab. Takes one job per stdin line ({ id, job }) and answers JSON lines tagged
// with the job id; times are measured here, around the library call, so node's start-up (slow on
// a busy machine) is outside them. Ends on stdin's end, stopping its jobs (announcers say goodbye).
import http from 'node:http';
import { createInterface } from 'node:readline';
import { announce, findOrchestrator, pingHeaders, scanSubnet } from '@kraken/discovery';

const running = new Map();
const report = (id, event, fields = {}) => process.stdout.write(`${JSON.stringify({ id, event, ...fields })}\n`);

const jobs = {
  async announce(id, job) {
    const announcement = await announce(job.options);
    running.set(id, () => announcement.stop());
    report(id, 'ready');
  },
  async 'ping-server'(id, job) {
    const server = http.createServer((request, response) => {
      if (request.url !== '/ping') return void response.writeHead(404).end();
      response
        .writeHead(200, {
          'content-type': 'text/plain',
          [pingHeaders.clusterId]: job.clusterId,
          [pingHeaders.protocolVersion]: '1',
        })
        .end('pong');
    });
    await new Promise((resolve) => server.listen(job.port, '0.0.0.0', resolve));
    running.set(id, () => new Promise((resolve) => server.close(resolve)));
    report(id, 'ready');
  },
  async mdns(id, job) {
    const started = performance.now();
    const candidate = await findOrchestrator(job.options);
    const foundMs = performance.now() - started;
    report(id, 'done', { foundMs: candidate?.url === job.expectUrl ? foundMs : null, url: candidate?.url ?? null });
  },
  async scan(id, job) {
    const started = performance.now();
    let foundMs = null;
    const result = await scanSubnet({
      ...job.options,
      onCandidate: (candidate) => {
        if (candidate.url === job.expectUrl) foundMs ??= performance.now() - started;
      },
    });
    report(id, 'done', {
      foundMs,
      sweepMs: performance.now() - started,
      scanned: result.scanned,
      found: result.candidates.map((c) => c.url),
    });
  },
};

async function shutdown() {
  await Promise.all([...running.values()].map((stop) => stop()));
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, job } = JSON.parse(line);
  jobs[job.mode](id, job).catch((error) =>
    report(id, 'error', { message: error instanceof Error ? error.message : String(error) }),
  );
});
lines.on('close', () => void shutdown());
report(0, 'ready');
