// Issue 19 item 3 (zero-downtime redeploy), process runtime, at the worker's edge: the worker
// redeploys as the orchestrator asks (replace, with the port the deployment reported), and a client
// that follows the port in the worker's status reports, as the ingress follows the route, sees no
// failed request. Real RabbitMQ, the real worker, the real process runtime and a real app.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageType, createMessage } from '@kraken/messages';
import { commitFiles, eventuallyPasses, gitFixtureRepo, manifestToml } from '@kraken/testing';
import { processWorkerRig } from '../test/process-worker-rig.js';

const deploymentId = `zd-${Math.random().toString(36).slice(2, 8)}`;
const rig = processWorkerRig('process-redeploy', deploymentId);
const last = () => rig.last(deploymentId);
/** 50 requests/s. */
const REQUEST_EVERY_MS = 20;

function server(version: string): string {
  return `require('node:http').createServer((req, res) => res.end(${JSON.stringify(version)})).listen(Number(process.env.PORT));\n`;
}

interface Answer {
  port: number;
  body?: string;
  error?: string;
}

it('redeploys a new commit while a client sends 50 requests/s to the reported port: none fails, each is answered by the old or new version, and only by the new once its port is reported', async () => {
  const repo = await gitFixtureRepo(path.join(rig.work.path, 'repo'), {
    'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"\ntest = "true"', 'zero-downtime'),
    'server.js': server('v1'),
  });
  await rig.start({ deployer: { drainTime: '3s' }, worker: { heartbeatInterval: '1s' } });
  const meta = { from: 'it-orchestrator', epoch: 1 };
  await rig.broker.publish(rig.queues.node, createMessage(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main', attempt: 1 }, meta));
  await eventuallyPasses(() => {
    expect(last()?.status).toMatch(/Running|Errored/);
  }, 120_000, 50);
  expect(last()).toMatchObject({ status: 'Running', attempt: 1 });
  const oldPort = last()?.port ?? 0;

  // the client sends where the deployment's latest report says it runs, as the ingress routes
  const answers: Promise<Answer>[] = [];
  const client = { running: true };
  const sending = (async () => {
    while (client.running) {
      const port = last()?.port ?? oldPort;
      answers.push(
        fetch(`http://127.0.0.1:${String(port)}/`, { signal: AbortSignal.timeout(5_000) }).then(
          async (response): Promise<Answer> => (response.ok ? { port, body: await response.text() } : { port, error: `status ${String(response.status)}` }),
          (error: unknown): Answer => ({ port, error: (error as Error).message }),
        ),
      );
      await sleep(REQUEST_EVERY_MS);
    }
  })();

  await commitFiles(repo, { 'server.js': server('v2') }, 'v2');
  // as the orchestrator sends a redeploy: replace, with the port the deployment reported
  await rig.broker.publish(rig.queues.node, createMessage(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main', attempt: 2, replace: true, port: oldPort }, meta));
  await eventuallyPasses(() => {
    expect(last()).toMatchObject({ status: 'Running', attempt: 2 });
  }, 120_000, 20);
  const newPort = last()?.port ?? 0;
  // past the old version's drain, so that requests sent to it in its last moments are counted too
  await eventuallyPasses(async () => {
    await expect(fetch(`http://127.0.0.1:${String(oldPort)}/`)).rejects.toThrow();
  }, 15_000, 100);
  client.running = false;
  await sending;
  const all = await Promise.all(answers);

  expect(newPort).not.toBe(oldPort);
  expect(all.filter((answer) => answer.error !== undefined)).toEqual([]);
  expect(new Set(all.map((answer) => answer.body))).toEqual(new Set(['v1', 'v2']));
  expect(all.filter((answer) => answer.port === newPort).every((answer) => answer.body === 'v2')).toBe(true);
  expect(all.filter((answer) => answer.port === oldPort).every((answer) => answer.body === 'v1')).toBe(true);
});
