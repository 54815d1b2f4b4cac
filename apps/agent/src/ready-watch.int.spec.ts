// Issue 19 item 5 (health): a running app that hangs (its process lives, its port accepts, but it
// answers nothing) is reported unready by its worker's ready watch, and ready again once it
// answers. Real RabbitMQ, the real process runtime and a real app; the test flips a file the app
// reads on every request.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MessageType, createMessage } from '@kraken/messages';
import { eventuallyPasses, gitFixtureRepo, manifestToml } from '@kraken/testing';
import { processWorkerRig } from '../test/process-worker-rig.js';

const deploymentId = `hangs-${Math.random().toString(36).slice(2, 8)}`;
const rig = processWorkerRig('ready-watch', deploymentId);
const last = () => rig.last(deploymentId);

// while $HANG_FILE exists it takes each request and never answers it: alive, listening, hung
const APP = `
const fs = require('node:fs');
const held = [];
require('node:http').createServer((req, res) => {
  if (fs.existsSync(process.env.HANG_FILE)) held.push(res);
  else res.end('ok');
}).listen(Number(process.env.PORT));
`;

it('reports a running app that stops answering as unready within the threshold, and ready again once it answers', async () => {
  const repo = await gitFixtureRepo(path.join(rig.work.path, 'repo'), {
    'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node app.js"', 'hangs'),
    'app.js': APP,
  });
  const hangFile = path.join(rig.work.path, 'hang');
  await rig.start({ worker: { heartbeatInterval: '1s', readyCheckInterval: '300ms', readyCheckTimeout: '200ms', readyCheckFailures: 3 } });
  await rig.broker.publish(
    rig.queues.node,
    createMessage(MessageType.DeployRequest, { deploymentId, srcUrl: repo, branch: 'main', attempt: 1, env: { HANG_FILE: hangFile } }, { from: 'it-orchestrator', epoch: 1 }),
  );
  await eventuallyPasses(() => { expect(last()?.status).toMatch(/Running|Errored/); }, 120_000, 100);
  expect(last()).toMatchObject({ status: 'Running', attempt: 1, readiness: { ready: true } });
  const port = last()?.port;
  expect(port).toBeDefined();

  await writeFile(hangFile, '');
  await eventuallyPasses(() => { expect(last()?.readiness?.ready).toBe(false); }, 30_000, 50);
  const unready = last();
  expect(unready).toMatchObject({ status: 'Running', attempt: 1, port });
  expect(unready?.message).toMatch(new RegExp(`^not answering on port ${String(port)} for .* \\(3 checks, last: .*\\): the ingress sends it nothing until it answers again$`));
  // hung, not gone: the runtime still runs it, and the crash watch has nothing to say
  expect(await rig.deployer.list()).toMatchObject([{ deploymentId, state: 'running' }]);
  expect(unready?.restarts).toMatchObject({ count: 0, looping: false });

  await rm(hangFile);
  await eventuallyPasses(() => { expect(last()?.readiness?.ready).toBe(true); }, 30_000, 50);
  expect(last()).toMatchObject({ status: 'Running', attempt: 1, port });
  expect(last()?.message).toMatch(new RegExp(`^answering on port ${String(port)} again after `));
});
