// Issue 15: an app that keeps crashing is shown as such. An app that exits 1 three seconds after
// every start goes through the orchestrator and RabbitMQ to a worker in each runtime; its runtime
// restarts it (Docker's restart policy, the process supervisor's backoff), and the API shows it
// crash-looping with a restart count at most one behind the runtime's own, then, after the
// worker's crashLoopRestarts failed restarts, ERRORED with the reason and nothing left running. An app
// that crashes twice and then runs steadily goes back to plain RUNNING, its restarts kept.
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StopWaiting, eventually, gitFixtureRepo, manifestToml } from '@kraken/testing';
import { ApiClient } from './support/api-client.js';
import { appContainersOf, docker } from './support/docker.js';
import { Stack, TOKEN } from './support/stack.js';

jest.setTimeout(400_000);

const FAIL_AFTER_RESTARTS = 3;
const STEADY_AFTER = '5s';

const CRASHING_APP = `
const http = require('node:http');
const port = Number(process.env.PORT);
http.createServer((req, res) => res.end('up for now')).listen(port, () => console.log('crashy app listening on ' + port));
setTimeout(() => {
  console.log('crashy app giving up');
  process.exit(1);
}, 3000);
`;

// Crashes on its first two starts, then runs. It counts its starts in a file that survives a restart
// (in the container's own /tmp, or the host's for the process runtime).
const recoveringApp = (counter: string): string => `
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const port = Number(process.env.PORT);
const counter = path.join(os.tmpdir(), ${JSON.stringify(counter)});
const starts = (fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) : 0) + 1;
fs.writeFileSync(counter, String(starts));
http.createServer((req, res) => res.end('start ' + starts)).listen(port, () => console.log('recovering app start ' + starts));
if (starts <= 2) setTimeout(() => process.exit(1), 2000);
`;

interface DeploymentView {
  status: string;
  statusMessage: string | null;
  crashLooping: boolean;
  restartCount: number;
  lastExit: { code: number | null; reason: string; time: number } | null;
}

const runtimes = ['docker', 'process'] as const;

describe.each(runtimes)('a crash-looping app in the %s runtime', (runtime) => {
  let stack: Stack;
  let api: ApiClient;
  let nodeId: string;

  beforeAll(async () => {
    stack = await Stack.start();
    api = new ApiClient(stack.server.url, TOKEN);
    nodeId = stack.newNodeId(`crashloop-${runtime}`);
    const options = { crashLoopRestarts: FAIL_AFTER_RESTARTS, crashLoopSteadyAfter: STEADY_AFTER };
    await stack.startRuntimeWorker(runtime, nodeId, options);
  });

  afterAll(async () => {
    await api.close();
    await stack.close();
  });

  function view(id: string): Promise<DeploymentView> {
    return api.getDeployment<DeploymentView>(id, 'status statusMessage crashLooping restartCount lastExit { code reason time }');
  }

  /** How often the runtime itself says it restarted the app; undefined once the app is gone. */
  async function runtimeRestarts(id: string): Promise<number | undefined> {
    if (runtime === 'docker') {
      const [container] = await appContainersOf(id);
      if (container === undefined) return undefined;
      try {
        return (await docker.getContainer(container.Id).inspect()).RestartCount;
      } catch {
        return undefined;
      }
    }
    try {
      const state = JSON.parse(await readFile(path.join(stack.dir.path, 'process', nodeId, 'deployments', id, 'state.json'), 'utf8')) as { restarts: number };
      return state.restarts;
    } catch {
      return undefined;
    }
  }

  it('is shown crash-looping with its restart count within one restart, then ERRORED with the reason after the failed restarts', async () => {
    const repo = await gitFixtureRepo(path.join(stack.dir.path, `crashy-${runtime}`), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"', 'crashy'),
      'server.js': CRASHING_APP,
    });
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    await eventually(
      async () => {
        const current = await view(id);
        if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED before it ran: ${current.statusMessage ?? '(no message)'}`);
        return current.status === 'RUNNING';
      },
      300_000,
      `${id} RUNNING`,
      250,
    );

    // the runtime's count is read first, so it is never ahead of what the API could know when it answers
    const seen: { runtime: number; api: DeploymentView }[] = [];
    const final = await eventually(
      async () => {
        const restarts = await runtimeRestarts(id);
        const current = await view(id);
        if (restarts !== undefined && current.status === 'RUNNING') seen.push({ runtime: restarts, api: current });
        return current.status !== 'RUNNING' && current;
      },
      180_000,
      `${id} given up on`,
      100,
    );

    const pairs = [...new Set(seen.map(({ runtime: restarts, api: shown }) => `${String(restarts)}->${String(shown.restartCount)}${shown.crashLooping ? '!' : ''}`))];
    console.info(`${runtime} runtime restarts -> restarts shown (! = crash-looping): ${pairs.join(' ')}`);
    const behind = seen.filter(({ runtime: restarts, api: shown }) => shown.restartCount < restarts - 1);
    expect(behind).toEqual([]);
    const afterSecondRestart = seen.filter(({ runtime: restarts }) => restarts >= 2);
    expect(afterSecondRestart.length).toBeGreaterThan(0);
    expect(afterSecondRestart.filter(({ api: shown }) => !shown.crashLooping)).toEqual([]);
    expect(afterSecondRestart.at(-1)?.api.statusMessage).toMatch(/^crash-looping: /);
    expect(seen.some(({ api: shown }) => shown.crashLooping && shown.lastExit?.code === 1 && /^exited with code 1 after \d/.test(shown.lastExit.reason))).toBe(true);

    expect(final.status).toBe('ERRORED');
    expect(final.statusMessage).toMatch(
      new RegExp(`^crash loop: the app exited with code 1 after [\\d.]+ s, and ${String(FAIL_AFTER_RESTARTS)} restarts in a row ended the same way before it ran 5\\.0 s; stopped it$`),
    );
    expect(final.restartCount).toBe(FAIL_AFTER_RESTARTS);
    expect(final.crashLooping).toBe(true);
    expect(final.lastExit?.code).toBe(1);
    expect(await runtimeRestarts(id)).toBeUndefined();
    if (runtime === 'docker') expect(await appContainersOf(id)).toEqual([]);
  });

  it('is RUNNING and no longer crash-looping once a restarted app runs steadily, its restarts kept', async () => {
    const counter = `kraken-recovering-${randomUUID()}`;
    const repo = await gitFixtureRepo(path.join(stack.dir.path, `recovering-${runtime}`), {
      'shipwreck.toml': manifestToml('lang = "node"\nport = 3000\nrun = "node server.js"', 'recovering'),
      'server.js': recoveringApp(counter),
    });
    const id = await api.createDeployment(repo, 'main');
    stack.deploymentIds.add(id);
    const until = (what: string, done: (current: DeploymentView) => boolean): Promise<DeploymentView> =>
      eventually(
        async () => {
          const current = await view(id);
          if (current.status === 'ERRORED') throw new StopWaiting(`${id} ERRORED: ${current.statusMessage ?? '(no message)'}`);
          return done(current) && current;
        },
        300_000,
        `${id} ${what}`,
        100,
      );
    await until('crash-looping', (current) => current.status === 'RUNNING' && current.crashLooping);
    const recovered = await until('recovered', (current) => current.status === 'RUNNING' && !current.crashLooping && current.restartCount > 0);
    expect(recovered.restartCount).toBe(2);
    expect(recovered.lastExit?.code).toBe(1);
    expect(recovered.statusMessage).toMatch(/^running steadily again for \d+\.\d s after 2 restarts$/);
    expect(await runtimeRestarts(id)).toBe(2);
    await rm(path.join(tmpdir(), counter), { force: true });
  });
});
