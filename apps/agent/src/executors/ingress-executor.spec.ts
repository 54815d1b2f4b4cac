import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryBroker } from '@kraken/broker';
import { MemoryLogger } from '@kraken/common';
import { MessageType, createMessage } from '@kraken/messages';
import { ROUTES_TOPIC } from '@kraken/orchestrator/follow';
import { eventually } from '@kraken/testing';
import { IngressExecutor } from './ingress-executor.js';

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      })
      .on('error', reject);
  });
}

describe('IngressExecutor', () => {
  let broker: MemoryBroker;
  let app: http.Server;
  let appUrl: string;
  const executors: IngressExecutor[] = [];

  beforeEach(async () => {
    broker = new MemoryBroker();
    app = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${String((app.address() as AddressInfo).port)}`;
  });

  afterEach(async () => {
    for (const executor of executors.splice(0)) await executor.stop();
    await broker.close();
    await new Promise((resolve) => app.close(resolve));
  });

  async function started(port: number, logger = new MemoryLogger()): Promise<IngressExecutor> {
    const executor = new IngressExecutor({ broker, port, host: '127.0.0.1', logger });
    executors.push(executor);
    await executor.setup();
    return executor;
  }

  const publish = (epoch: number, seq: number, upstream: string | undefined) =>
    broker.publishTopic(
      ROUTES_TOPIC,
      createMessage(MessageType.IngressRoutes, { seq, routes: [{ name: 'hello', deploymentId: 'hello-1', status: upstream === undefined ? 'Deploying' : 'Running', ...(upstream === undefined ? {} : { upstream }) }] }, { from: 'leader', epoch }),
    );

  it("serves each app by name from the leader's route tables, ignoring a former leader's", async () => {
    const executor = await started(0);
    const port = executor.port ?? 0;
    expect((await get(port, 'hello')).status).toBe(404);
    await publish(2, 0, undefined);
    await eventually(async () => (await get(port, 'hello')).status === 503, 5_000, 'the first table');
    await publish(2, 1, appUrl);
    const answer = await eventually(async () => {
      const got = await get(port, 'hello.local');
      return got.status === 200 && got;
    }, 5_000, 'the app through the ingress');
    expect(answer.body).toBe('hello');
    // a former leader's late table, then the leader's next: once that one is in, the late one was heard and ignored
    await publish(1, 7, undefined);
    await publish(2, 2, appUrl);
    await eventually(() => executor.routes.version?.seq === 2, 5_000, 'the next table');
    expect(executor.routes.version).toEqual({ epoch: 2, seq: 2 });
    expect((await get(port, 'hello')).status).toBe(200);
  });

  it('goes on without an ingress when its port is taken, saying so', async () => {
    const first = await started(0);
    const logger = new MemoryLogger();
    const second = await started(first.port ?? 0, logger);
    expect(second.port).toBeUndefined();
    const error = logger.records.find((record) => record.level === 'error');
    expect(error?.message).toMatch(new RegExp(`^the ingress does not run on this agent: it could not listen on port ${String(first.port)} \\(.*EADDRINUSE`));
  });
});
