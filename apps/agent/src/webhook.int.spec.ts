// Issue 20 item 6: a failed deploy reaches a webhook. A real agent (process runtime, its own vhost)
// POSTs to a receiver on loopback; the receiver fails twice, and the notification still arrives once.
import fs from 'node:fs';
import path from 'node:path';
import {
  eventually,
  freePort,
  gitFixtureRepo,
  isolatedVhost,
  manifestToml,
  requireRabbit,
  startWebhookReceiver,
  tempDir,
} from '@kraken/testing';
import type { IsolatedVhost, ReceivedRequest, TempDir, WatchedProcess, WebhookReceiver } from '@kraken/testing';
import { ApiClient } from './client/api-client.js';
import { runKraken, startLoneAgent } from '../test/cli-process.js';

interface Payload {
  id: string;
  kind: string;
  message: string;
  deploymentId?: string;
  at: string;
  cluster: { id: string; leader: string };
}

describe('webhook notifications from a running agent', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;
  let receiver: WebhookReceiver;
  let agent: WatchedProcess;
  let api: string;
  let dataDir: string;
  let repoCount = 0;

  const client = () =>
    new ApiClient({
      url: api,
      token: (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken,
    });

  /** Deploys a repository whose manifest names no language Kraken has: it fails before any build. */
  const deployBroken = async (): Promise<string> => {
    repoCount += 1;
    const repo = await gitFixtureRepo(path.join(dir.path, `broken-${String(repoCount)}`), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "cobol"\nrun = "./run"', `broken-${String(repoCount)}`),
    });
    const created = await runKraken(['deploy', repo, '--no-follow', '--json', '--api', api, '--data-dir', dataDir]);
    expect(created.code).toBe(0);
    return (JSON.parse(created.stdout) as { id: string }).id;
  };

  const postsFor = (deploymentId: string): ReceivedRequest[] =>
    receiver.received.filter((request) => (request.body as Payload).deploymentId === deploymentId);

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-webhook');
    dir = await tempDir('kraken-webhook-');
    receiver = await startWebhookReceiver();
    dataDir = path.join(dir.path, 'data');
    // credentials and a secret path, as chat services' webhook URLs have: neither may be shown
    const webhookUrl = receiver.url.replace('http://', 'http://hook-user:hook-pass@') + '/hooks/s3cret-path';
    // from the environment, as a service unit would set it
    ({ process: agent, api } = await startLoneAgent({ dataDir, brokerUrl: vhost.url, port: await freePort(), env: { KRAKEN_WEBHOOK_URL: webhookUrl } }));
  }, 120_000);

  afterAll(async () => {
    agent.kill('SIGTERM');
    await agent.exited;
    await receiver.close();
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('POSTs one deploy-failed notification for a broken repository, with the reason and the cluster', async () => {
    const deploymentId = await deployBroken();
    const [post] = await eventually(
      () => {
        const posts = postsFor(deploymentId);
        return posts.length > 0 ? posts : undefined;
      },
      60_000,
      'the webhook POST for the failed deploy',
    );
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe('/hooks/s3cret-path');
    expect(post?.headers['content-type']).toBe('application/json');
    // the URL's user part arrives as basic auth
    expect(post?.headers.authorization).toBe(`Basic ${Buffer.from('hook-user:hook-pass').toString('base64')}`);
    expect(post?.body).toMatchObject({
      kind: 'deploy-failed',
      deploymentId,
      message: expect.stringContaining('cobol') as unknown,
      cluster: { id: expect.any(String) as unknown, leader: expect.any(String) as unknown },
    });

    // the same notification, as the API lists it
    const { notifications } = await client().graphql<{ notifications: { id: string; kind: string; deploymentId: string }[] }>(
      'query { notifications(limit: 10) { id kind deploymentId } }',
    );
    expect(notifications).toContainEqual({ id: (post?.body as Payload).id, kind: 'deploy-failed', deploymentId });
    expect(postsFor(deploymentId)).toHaveLength(1);
  }, 90_000);

  it('retries a receiver that fails twice and delivers the notification once', async () => {
    receiver.failNext(2, 503);
    const deploymentId = await deployBroken();
    const posts = await eventually(
      () => {
        const seen = postsFor(deploymentId);
        return seen.some((request) => request.status === 204) ? seen : undefined;
      },
      60_000,
      'the webhook delivery after two failures',
    );
    expect(posts.map((request) => request.status)).toEqual([503, 503, 204]);
    expect(new Set(posts.map((request) => (request.body as Payload).id)).size).toBe(1);

    // `kraken status` names the webhook without its credentials or path, and counts the deliveries
    const status = await runKraken(['status', '--api', api, '--data-dir', dataDir]);
    expect(status.stdout).toMatch(/webhook\s+up: POSTs notifications to http:\/\/127\.0\.0\.1:\d+\/…; 2 delivered/);
    expect(status.stdout).not.toMatch(/hook-pass|hook-user|s3cret/);
  }, 90_000);
});
