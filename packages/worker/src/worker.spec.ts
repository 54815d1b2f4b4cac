import { ErrorCode, KrakenError } from '@kraken/common';
import { DeliveryClass, MessageType } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import { FakeDeployer } from '../test/fake-deployer.js';
import type { Harness } from '../test/harness.js';
import { fixedSample, queues, request, startHarness } from '../test/harness.js';

const fullPath = ['ValidatingDeploymentData', 'RetrievingApplicationData', 'BuildingDeployment', 'TestingDeployment', 'Deploying', 'Running'];

let h: Harness | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  expect(unhandled).toEqual([]);
});

async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  h = await startHarness(...args);
  return h;
}

describe('Worker: deploy requests', () => {
  it('publishes every status in order, ending Running with port, url and commit, at strictly increasing times', async () => {
    const { send, statuses, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('app-1', { port: 8081, env: { MODE: 'prod' } }));
    await eventuallyPasses(() => { expect(statusesOf('app-1')).toEqual(fullPath); }, 3_000, 5);

    const running = statuses.at(-1);
    expect(running).toMatchObject({ nodeId: 'n1', port: 8081, url: 'http://10.1.2.3:8081', commit: 'a'.repeat(40) });
    const times = statuses.map((status) => Date.parse(status.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
    expect(deployer.deployCalls).toEqual([
      expect.objectContaining({ deploymentId: 'app-1', url: 'https://git.home.lan/alice/app.git', branch: 'main', hostPort: 8081, env: { MODE: 'prod' } }),
    ]);
  });

  it('passes the requested commit and limits to the deployer', async () => {
    const { send, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('pinned', { commit: 'a'.repeat(40), limits: { memoryMb: 128, cpus: 0.5 } }));
    await eventuallyPasses(() => { expect(statusesOf('pinned').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(deployer.deployCalls).toEqual([expect.objectContaining({ deploymentId: 'pinned', commit: 'a'.repeat(40), limits: { memoryMb: 128, cpus: 0.5 } })]);
  });

  it('skips TestingDeployment when the manifest has no test', async () => {
    const deployer = new FakeDeployer();
    deployer.scripts.set('app-2', { hasTest: false });
    const { send, statusesOf } = await harness({ deployer });
    await send(MessageType.DeployRequest, request('app-2'));
    await eventuallyPasses(() => { expect(statusesOf('app-2')).toEqual(fullPath.filter((status) => status !== 'TestingDeployment')); }, 3_000, 5);
  });

  it.each([
    ['clone', 'ValidatingDeploymentData,RetrievingApplicationData'],
    ['manifest', 'ValidatingDeploymentData,RetrievingApplicationData'],
    ['build', 'ValidatingDeploymentData,RetrievingApplicationData,BuildingDeployment'],
    ['test', 'ValidatingDeploymentData,RetrievingApplicationData,BuildingDeployment,TestingDeployment'],
    ['run', 'ValidatingDeploymentData,RetrievingApplicationData,BuildingDeployment,TestingDeployment,Deploying'],
    ['ready', 'ValidatingDeploymentData,RetrievingApplicationData,BuildingDeployment,TestingDeployment,Deploying'],
  ] as const)('a failure in %s ends in Errored with the deployer reason', async (step, before) => {
    const deployer = new FakeDeployer();
    deployer.scripts.set('app-f', { failAt: step, error: `boom in ${step}` });
    const { send, statuses, statusesOf, worker } = await harness({ deployer });
    await send(MessageType.DeployRequest, request('app-f'));
    await eventuallyPasses(() => { expect(statusesOf('app-f')).toEqual([...before.split(','), 'Errored']); }, 3_000, 5);
    expect(statuses.at(-1)?.message).toBe(`boom in ${step}`);
    expect(statuses.at(-1)?.errorCode).toBe('INTERNAL');
    expect(worker.stats().deploysFailed).toBe(1);
    expect(worker.deployments()).toEqual([]);
  });

  it('a deployer that throws a non-Kraken error reports Errored and the worker keeps deploying', async () => {
    const deployer = new FakeDeployer();
    deployer.scripts.set('bad', { failAt: 'build', throwPlain: true, error: 'undefined is not a function' });
    const { send, statusesOf, statuses } = await harness({ deployer });
    await send(MessageType.DeployRequest, request('bad'));
    await send(MessageType.DeployRequest, request('good'));
    await eventuallyPasses(() => { expect(statusesOf('good').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(statusesOf('bad').at(-1)).toBe('Errored');
    expect(statuses.find((status) => status.deploymentId === 'bad' && status.status === 'Errored')?.message).toBe('undefined is not a function');
  });

  it('survives a deployer whose list, logs and stats all reject (no unhandled rejections)', async () => {
    const deployer = new FakeDeployer();
    deployer.list = () => Promise.reject(new Error('engine down'));
    deployer.stats = () => Promise.reject(new Error('stats broke'));
    deployer.followLogs = () => Promise.reject(new Error('logs broke'));
    const { send, statusesOf, worker } = await harness({ deployer, options: { statsInterval: 10, logRefollowDelay: 10 } });
    await send(MessageType.DeployRequest, request('app-3'));
    await eventuallyPasses(() => { expect(statusesOf('app-3').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => { expect(worker.stats().failures).toBeGreaterThanOrEqual(3); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('app-4'));
    await eventuallyPasses(() => { expect(statusesOf('app-4').at(-1)).toBe('Running'); }, 3_000, 5);
  });

  it('names a taken host port in Errored (CONFLICT + port), so the orchestrator can pick another', async () => {
    const deployer = new FakeDeployer();
    const realDeploy = deployer.deploy.bind(deployer);
    deployer.deploy = (req) =>
      req.deploymentId === 'clash'
        ? Promise.reject(new KrakenError(ErrorCode.Conflict, 'host port 20000 is already in use on this node', { details: { hostPort: 20000 } }))
        : realDeploy(req);
    const { send, statuses } = await harness({ deployer });
    await send(MessageType.DeployRequest, request('clash'));
    await eventuallyPasses(() => { expect(statuses.at(-1)?.status).toBe('Errored'); }, 3_000, 5);
    expect(statuses.at(-1)).toMatchObject({ errorCode: 'CONFLICT', port: 20000 });
  });

  it('refuses a runtime it does not have with Errored', async () => {
    const { send, statuses, deployer } = await harness();
    await send(MessageType.DeployRequest, request('proc', { runtime: 'process' }));
    await eventuallyPasses(() => { expect(statuses.map((status) => status.status)).toEqual(['Errored']); }, 3_000, 5);
    expect(statuses[0]?.message).toMatch(/docker only/);
    expect(deployer.deployCalls).toEqual([]);
  });
});

describe('Worker: idempotency and fencing', () => {
  it('does not deploy twice for a redelivered message id or a repeated deploymentId, and reports the current status instead', async () => {
    const { send, statusesOf, deployer, worker } = await harness();
    const id = '3f1c1d7e-8a5b-4c1e-9d7a-2b6f4e8c0a11';
    await send(MessageType.DeployRequest, request('dup'), { id });
    await send(MessageType.DeployRequest, request('dup'), { id });
    await eventuallyPasses(() => { expect(statusesOf('dup').at(-1)).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('dup'));
    await eventuallyPasses(() => { expect(statusesOf('dup')).toEqual([...fullPath, 'Running']); }, 3_000, 5);
    expect(deployer.deployCalls).toHaveLength(1);
    expect(worker.stats().duplicateRequests).toBe(1);
  });

  it('a re-sent request that arrives while a failed deploy is let go leaves its Errored reason alone; a newer attempt deploys after', async () => {
    // untrack waits on the log cursor store: held here, as a slow disk or a busy machine holds it
    let releaseForget: () => void = () => undefined;
    const forgetHeld = new Promise<void>((resolve) => {
      releaseForget = resolve;
    });
    const logCursors = { load: () => Promise.resolve(new Map<string, string>()), record: () => undefined, forget: () => forgetHeld, flush: () => Promise.resolve() };
    const deployer = new FakeDeployer();
    deployer.scripts.set('flaky', { failAt: 'build', error: 'image build failed: npm ERR! the real reason' });
    const { send, statuses, statusesOf } = await harness({ deployer, logCursors });
    await send(MessageType.DeployRequest, request('flaky', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('flaky').at(-1)).toBe('Errored'); }, 3_000, 5);
    const reported = statuses.length;

    await send(MessageType.DeployRequest, request('flaky', { attempt: 1 }));
    await send(MessageType.DeployRequest, request('flaky', { attempt: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // nothing said over the real reason
    expect(statuses.slice(reported)).toEqual([]);
    expect(statuses.at(-1)?.message).toBe('image build failed: npm ERR! the real reason');

    deployer.scripts.delete('flaky');
    releaseForget();
    await eventuallyPasses(() => { expect(statusesOf('flaky').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(statuses.at(-1)?.attempt).toBe(2);
    expect(deployer.deployCalls).toHaveLength(2);
  });

  it('a redeploy (replace, newer attempt) of a running deployment deploys afresh through the deployer, statuses carrying the new attempt', async () => {
    const { send, statuses, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('again', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('again').at(-1)).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('again', { attempt: 2, replace: true }));
    await eventuallyPasses(() => { expect(statusesOf('again')).toEqual([...fullPath, ...fullPath]); }, 3_000, 5);
    // the deployer swaps the versions itself (the old one serves while the new one builds)
    expect(deployer.stopCalls).toEqual([]);
    expect(deployer.deployCalls.map((call) => call.replace)).toEqual([undefined, true]);
    const mine = statuses.filter((status) => status.deploymentId === 'again');
    expect(mine.map((status) => status.attempt)).toEqual([...fullPath.map(() => 1), ...fullPath.map(() => 2)]);
    // the same redeploy delivered again is a duplicate, not a third deploy
    await send(MessageType.DeployRequest, request('again', { attempt: 2, replace: true }));
    await eventuallyPasses(() => { expect(statusesOf('again')).toHaveLength(fullPath.length * 2 + 1); }, 3_000, 5);
    expect(deployer.deployCalls).toHaveLength(2);
  });

  it('a redeploy the deployer restarted from the build it has (changed settings) says so in Running, without build statuses', async () => {
    const { send, statuses, statusesOf, deployer } = await harness();
    deployer.scripts.set('settings', { reuseBuild: true });
    await send(MessageType.DeployRequest, request('settings', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('settings').at(-1)).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('settings', { attempt: 2, replace: true, commit: 'a'.repeat(40), env: { GREETING: 'secret-value' } }));
    await eventuallyPasses(() => { expect(statusesOf('settings')).toEqual([...fullPath, 'ValidatingDeploymentData', 'Deploying', 'Running']); }, 3_000, 5);
    const last = statuses.filter((status) => status.deploymentId === 'settings').at(-1);
    expect(last?.message).toBe('restarted with the changed settings from the build of aaaaaaa; nothing was rebuilt');
    expect(JSON.stringify(statuses)).not.toContain('secret-value');
  });

  it('a rollback (replace of a pinned commit, fromKept) passes fromKept to the deployer and says in Running that nothing was rebuilt, without build statuses', async () => {
    const { send, statuses, statusesOf, deployer } = await harness();
    deployer.scripts.set('back', { kept: true });
    await send(MessageType.DeployRequest, request('back', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('back').at(-1)).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('back', { attempt: 2, replace: true, commit: 'b'.repeat(40), fromKept: true }));
    await eventuallyPasses(() => { expect(statusesOf('back')).toEqual([...fullPath, 'ValidatingDeploymentData', 'Deploying', 'Running']); }, 3_000, 5);
    expect(deployer.deployCalls.map((call) => call.fromKept)).toEqual([undefined, true]);
    const last = statuses.filter((status) => status.deploymentId === 'back').at(-1);
    expect(last?.message).toBe('running the kept build of bbbbbbb; nothing was rebuilt');
  });

  it('a redeploy that arrives mid-deploy runs once the current deploy is up', async () => {
    const { send, statuses, statusesOf, deployer, logger } = await harness();
    let open: () => void = () => undefined;
    deployer.scripts.set('busy', { gate: new Promise<void>((resolve) => { open = resolve; }) });
    await send(MessageType.DeployRequest, request('busy', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('busy')).toContain('TestingDeployment'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('busy', { attempt: 2, replace: true }));
    await eventuallyPasses(() => { expect(logger.records.map((record) => record.message)).toContain('redeploy requested while deploying; it runs once the current deploy is up'); }, 3_000, 5);
    open();
    await eventuallyPasses(() => { expect(deployer.deployCalls).toHaveLength(2); }, 3_000, 5);
    await eventuallyPasses(() => { expect(statusesOf('busy').at(-1)).toBe('Running'); }, 3_000, 5);
    // the first deploy's progress counts towards the newest attempt from the moment it arrived, and it never reports Running
    expect(statuses.filter((s) => s.deploymentId === 'busy' && s.status === 'Running').map((s) => s.attempt)).toEqual([2]);
    expect(deployer.deployCalls.map((call) => call.replace)).toEqual([undefined, true]);
  });

  it('a redeploy that fails before the swap leaves the previous version Running, saying why', async () => {
    const { send, statuses, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('steady', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statusesOf('steady').at(-1)).toBe('Running'); }, 3_000, 5);
    deployer.scripts.set('steady', { failAt: 'build', error: 'npm ci failed' });
    await send(MessageType.DeployRequest, request('steady', { attempt: 2, replace: true }));
    await eventuallyPasses(() => { expect(statusesOf('steady').slice(fullPath.length)).toEqual(['ValidatingDeploymentData', 'RetrievingApplicationData', 'BuildingDeployment', 'Running']); }, 3_000, 5);
    expect(statuses.at(-1)).toMatchObject({ attempt: 2, commit: 'a'.repeat(40), message: expect.stringMatching(/^redeploy failed: npm ci failed; the previous version \(aaaaaaa\) keeps running$/) as unknown });
    expect(deployer.containers.has('steady')).toBe(true);
    // still held: a stop removes it as usual
    await send(MessageType.DeployStop, { deploymentId: 'steady' });
    await eventuallyPasses(() => { expect(statusesOf('steady').at(-1)).toBe('Destroyed'); }, 3_000, 5);
  });

  it('a newer attempt without replace (a node given its app back) reports the running app under that attempt, no redeploy', async () => {
    const { send, statuses, deployer } = await harness();
    await send(MessageType.DeployRequest, request('kept', { attempt: 1 }));
    await eventuallyPasses(() => { expect(statuses.filter((s) => s.deploymentId === 'kept').at(-1)?.status).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('kept', { attempt: 3 }));
    await eventuallyPasses(() => { expect(statuses.filter((s) => s.deploymentId === 'kept').at(-1)).toMatchObject({ status: 'Running', attempt: 3 }); }, 3_000, 5);
    expect(deployer.deployCalls).toHaveLength(1);
    expect(deployer.stopCalls).toEqual([]);
  });

  it('ignores (acks, logs, counts) a command from an older epoch', async () => {
    const { send, statusesOf, worker, deployer, logger } = await harness();
    await send(MessageType.DeployRequest, request('fenced'), { epoch: 5 });
    await eventuallyPasses(() => { expect(statusesOf('fenced').at(-1)).toBe('Running'); }, 3_000, 5);
    const ignored: string[] = [];
    worker.on('command-ignored', (info) => ignored.push(`${info.type}@${info.epoch}<${info.highestEpoch}`));
    await send(MessageType.DeployStop, { deploymentId: 'fenced', reason: 'old leader' }, { epoch: 4 });
    await eventuallyPasses(() => { expect(ignored).toEqual(['deploy.stop@4<5']); }, 3_000, 5);
    expect(worker.stats().staleCommandsIgnored).toBe(1);
    expect(deployer.stopCalls).toEqual([]);
    expect(logger.records.some((record) => record.message === 'command ignored' && record.fields['reason'] === 'stale-epoch')).toBe(true);
    // the current leader still gets through
    await send(MessageType.DeployStop, { deploymentId: 'fenced' }, { epoch: 5 });
    await eventuallyPasses(() => { expect(statusesOf('fenced').at(-1)).toBe('Destroyed'); }, 3_000, 5);
  });
  it("refuses a former leader's command once told a new leader was elected, even one it never had a command from", async () => {
    const { send, statusesOf, worker, deployer } = await harness();
    await send(MessageType.DeployRequest, request('moved'), { epoch: 2 });
    await eventuallyPasses(() => { expect(statusesOf('moved').at(-1)).toBe('Running'); }, 3_000, 5);
    const ignored: string[] = [];
    worker.on('command-ignored', (info) => ignored.push(`${info.type}@${info.epoch}<${info.highestEpoch}`));
    await send(MessageType.LeaderElected, { leaderId: 'standby' }, { epoch: 3 });
    // the former leader's command, resent after the new one took over, comes behind the election
    await send(MessageType.DeployStop, { deploymentId: 'moved', reason: 'late' }, { epoch: 2 });
    await eventuallyPasses(() => { expect(ignored).toEqual(['deploy.stop@2<3']); }, 3_000, 5);
    expect(deployer.stopCalls).toEqual([]);
    expect(statusesOf('moved').at(-1)).toBe('Running');
  });
});

describe('Worker: cancel and stop', () => {
  it('stop of a running deployment: DestructionInProgress -> Destroyed, container removed, log follower stopped', async () => {
    const { send, statusesOf, deployer, worker } = await harness();
    await send(MessageType.DeployRequest, request('gone'));
    await eventuallyPasses(() => { expect(deployer.followers.has('gone')).toBe(true); }, 3_000, 5);
    await send(MessageType.DeployStop, { deploymentId: 'gone', reason: 'user asked' });
    await eventuallyPasses(() => { expect(statusesOf('gone').slice(-2)).toEqual(['DestructionInProgress', 'Destroyed']); }, 3_000, 5);
    expect(deployer.stopCalls).toEqual(['gone']);
    expect(deployer.containers.has('gone')).toBe(false);
    expect(deployer.followers.has('gone')).toBe(false);
    expect(worker.deployments()).toEqual([]);
  });

  it('a deploy request that arrives while destroying runs after the destroy instead of being dropped', async () => {
    const { send, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('back'));
    await eventuallyPasses(() => { expect(statusesOf('back').at(-1)).toBe('Running'); }, 3_000, 5);
    let releaseStop: () => void = () => undefined;
    const realStop = deployer.stop.bind(deployer);
    deployer.stop = (id: string) => new Promise<void>((resolve) => { releaseStop = () => { resolve(realStop(id)); }; });
    await send(MessageType.DeployStop, { deploymentId: 'back', reason: 'moved away' });
    await eventuallyPasses(() => { expect(statusesOf('back').at(-1)).toBe('DestructionInProgress'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('back'));
    releaseStop();
    await eventuallyPasses(() => { expect(statusesOf('back').at(-1)).toBe('Running'); }, 3_000, 5);
    const statuses = statusesOf('back');
    expect(statuses.slice(statuses.indexOf('DestructionInProgress'))).toEqual([
      'DestructionInProgress', 'Destroyed', 'ValidatingDeploymentData', 'RetrievingApplicationData', 'BuildingDeployment', 'TestingDeployment', 'Deploying', 'Running',
    ]);
    expect(deployer.containers.has('back')).toBe(true);
  });

  it('cancel during a deploy: no Running, the container it made is removed once the step ends', async () => {
    const deployer = new FakeDeployer();
    let open: () => void = () => undefined;
    deployer.scripts.set('mid', { gate: new Promise<void>((resolve) => (open = resolve)) });
    const { send, statusesOf } = await harness({ deployer });
    await send(MessageType.DeployRequest, request('mid'));
    await eventuallyPasses(() => { expect(statusesOf('mid')).toContain('TestingDeployment'); }, 3_000, 5);
    await send(MessageType.DeployCancel, { deploymentId: 'mid' });
    await eventuallyPasses(() => { expect(statusesOf('mid').at(-1)).toBe('DestructionInProgress'); }, 3_000, 5);
    open();
    await eventuallyPasses(() => { expect(statusesOf('mid').at(-1)).toBe('Destroyed'); }, 3_000, 5);
    expect(statusesOf('mid')).not.toContain('Running');
    expect(deployer.containers.has('mid')).toBe(false);
  });

  it('cancel of a deployment waiting for a slot: Destroyed and never deployed', async () => {
    const deployer = new FakeDeployer();
    let open: () => void = () => undefined;
    deployer.scripts.set('first', { holdIn: { step: 'build', until: new Promise<void>((resolve) => (open = resolve)) } });
    const { send, statusesOf } = await harness({ deployer, options: { maxConcurrentDeploys: 1 } });
    await send(MessageType.DeployRequest, request('first'));
    await send(MessageType.DeployRequest, request('waiting'));
    await eventuallyPasses(() => { expect(statusesOf('waiting')).toEqual(['ValidatingDeploymentData']); }, 3_000, 5);
    await send(MessageType.DeployCancel, { deploymentId: 'waiting' });
    await eventuallyPasses(() => { expect(statusesOf('waiting')).toEqual(['ValidatingDeploymentData', 'DestructionInProgress', 'Destroyed']); }, 3_000, 5);
    open();
    await eventuallyPasses(() => { expect(statusesOf('first').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(deployer.deployCalls.map((call) => call.deploymentId)).toEqual(['first']);
  });

  it('cancel of an unknown deployment replies Destroyed saying there was nothing to stop, and logs it', async () => {
    const { send, statuses, logger } = await harness();
    await send(MessageType.DeployCancel, { deploymentId: 'never-seen' });
    await eventuallyPasses(() => { expect(statuses).toHaveLength(1); }, 3_000, 5);
    expect(statuses[0]).toMatchObject({ deploymentId: 'never-seen', status: 'Destroyed', message: expect.stringMatching(/nothing to stop/) as unknown });
    expect(logger.records.some((record) => record.fields['deploymentId'] === 'never-seen' && /nothing to stop/.test(record.message))).toBe(true);
  });
});

describe('Worker: concurrency', () => {
  it('builds at most maxConcurrentDeploys at once, the others in arrival order', async () => {
    const deployer = new FakeDeployer();
    const gates = new Map<string, () => void>();
    for (const id of ['c1', 'c2', 'c3', 'c4']) deployer.scripts.set(id, { holdIn: { step: 'build', until: new Promise<void>((resolve) => gates.set(id, resolve)) } });
    const { send, statuses, statusesOf } = await harness({ deployer, options: { maxConcurrentDeploys: 2 } });
    for (const id of ['c1', 'c2', 'c3', 'c4']) await send(MessageType.DeployRequest, request(id));
    await eventuallyPasses(() => { expect(deployer.deployCalls.map((call) => call.deploymentId)).toEqual(['c1', 'c2']); }, 3_000, 5);
    expect(statusesOf('c3')).toEqual(['ValidatingDeploymentData']);
    // waiting work says what it waits for
    const messageOf = (id: string) => statuses.find((status) => status.deploymentId === id)?.message;
    expect(messageOf('c1')).toBeUndefined();
    expect(messageOf('c3')).toBe('queued behind c1, c2; this node runs 2 deploys at a time (maxConcurrentDeploys)');
    expect(messageOf('c4')).toBe('queued behind c1, c2 and 1 more waiting; this node runs 2 deploys at a time (maxConcurrentDeploys)');
    gates.get('c2')?.();
    await eventuallyPasses(() => { expect(deployer.deployCalls.map((call) => call.deploymentId)).toEqual(['c1', 'c2', 'c3']); }, 3_000, 5);
    for (const open of gates.values()) open();
    await eventuallyPasses(() => { expect(['c1', 'c2', 'c3', 'c4'].map((id) => statusesOf(id).at(-1))).toEqual(['Running', 'Running', 'Running', 'Running']); }, 3_000, 5);
    expect(deployer.maxBuilding).toBe(2);
  });

  it('a deploy whose test hangs holds no slot: one sent after it builds, tests and runs meanwhile', async () => {
    const deployer = new FakeDeployer();
    let finishTest: () => void = () => undefined;
    deployer.scripts.set('stuck', { holdIn: { step: 'test', until: new Promise<void>((resolve) => (finishTest = resolve)) } });
    const { send, statuses, statusesOf } = await harness({ deployer, options: { maxConcurrentDeploys: 1 } });
    await send(MessageType.DeployRequest, request('stuck'));
    await eventuallyPasses(() => { expect(statusesOf('stuck').at(-1)).toBe('TestingDeployment'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('quick'));
    await eventuallyPasses(() => { expect(statusesOf('quick').at(-1)).toBe('Running'); }, 3_000, 5);
    expect(statuses.filter((status) => status.deploymentId === 'quick').map((status) => status.message)).not.toContainEqual(expect.stringMatching(/queued/));
    expect(statusesOf('stuck').at(-1)).toBe('TestingDeployment');
    finishTest();
    await eventuallyPasses(() => { expect(statusesOf('stuck').at(-1)).toBe('Running'); }, 3_000, 5);
  });
});

describe('Worker: logs', () => {
  it('forwards build output and app output as deploy.log batches with seq 0, 1, 2... and size-based flushes', async () => {
    const deployer = new FakeDeployer();
    deployer.scripts.set('chatty', { buildLines: ['Step 1/3', 'Step 2/3'] });
    const { send, statusesOf, logs } = await harness({ deployer, options: { logFlushLines: 500, logFlushInterval: 50 } });
    await send(MessageType.DeployRequest, request('chatty'));
    await eventuallyPasses(() => { expect(statusesOf('chatty').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => { expect(deployer.followers.has('chatty')).toBe(true); }, 3_000, 5);
    // the build lines go out on their own once the flush interval passes
    await eventuallyPasses(() => { expect(logs('chatty')).toHaveLength(1); }, 3_000, 5);
    deployer.print('chatty', ...Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    await eventuallyPasses(() => { expect(logs('chatty').flatMap((batch) => batch.lines)).toHaveLength(1202); }, 3_000, 5);

    const batches = logs('chatty');
    expect(batches.map((batch) => batch.seq)).toEqual(batches.map((_, i) => i));
    expect(batches[0]?.lines.map((line) => [line.stream, line.text])).toEqual([
      ['build', 'Step 1/3'],
      ['build', 'Step 2/3'],
    ]);
    const appBatches = batches.slice(1);
    expect(appBatches.map((batch) => batch.lines.length)).toEqual([500, 500, 200]);
    expect(appBatches.flatMap((batch) => batch.lines.map((line) => line.text))).toEqual(Array.from({ length: 1200 }, (_, i) => `line ${i}`));
    expect(batches.every((batch) => batch.dropped === undefined)).toBe(true);
  });

  it('counts a batch the broker refused (a full queue) and reports it in the next batch, leaving a seq gap', async () => {
    const { send, statusesOf, deployer, logs, worker, releaseTelemetry } = await harness({
      options: { logFlushInterval: 10 },
      // room for one message, which the first heartbeat takes: the first log batch is refused
      beforeCreate: (broker) => broker.declareQueue(queues.telemetry, { class: DeliveryClass.Telemetry, maxLength: 1 }),
      holdTelemetry: true,
    });
    const dropped: number[] = [];
    worker.on('logs-dropped', (info) => dropped.push(info.lines));
    await send(MessageType.DeployRequest, request('lossy'));
    await eventuallyPasses(() => { expect(statusesOf('lossy').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => { expect(deployer.followers.has('lossy')).toBe(true); }, 3_000, 5);
    deployer.print('lossy', 'lost 1', 'lost 2', 'lost 3');
    await eventuallyPasses(() => { expect(dropped).toEqual([3]); }, 3_000, 5);
    await releaseTelemetry();
    await eventuallyPasses(() => { expect(logs('lossy')).toHaveLength(0); }, 3_000, 5);
    deployer.print('lossy', 'after');
    await eventuallyPasses(() => { expect(logs('lossy')).toHaveLength(1); }, 3_000, 5);
    expect(logs('lossy')[0]).toMatchObject({ seq: 1, dropped: 3, lines: [expect.objectContaining({ text: 'after' })] });
    expect(worker.stats().logLinesDropped).toBe(3);
  });

  it('stops following logs of a destroyed deployment', async () => {
    const { send, statusesOf, deployer } = await harness();
    await send(MessageType.DeployRequest, request('quiet'));
    await eventuallyPasses(() => { expect(deployer.followers.has('quiet')).toBe(true); }, 3_000, 5);
    await send(MessageType.DeployStop, { deploymentId: 'quiet' });
    await eventuallyPasses(() => { expect(statusesOf('quiet').at(-1)).toBe('Destroyed'); }, 3_000, 5);
    expect(() => {
      deployer.print('quiet', 'after');
    }).toThrow(/no log follower/);
  });
});

describe('Worker: heartbeats and stats', () => {
  it('sends node.info with the probe numbers, docker runtime and the running deployments', async () => {
    const { send, statusesOf, heartbeats } = await harness({ options: { heartbeatInterval: 20 } });
    await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
    expect(heartbeats()[0]).toEqual({
      nodeId: 'n1',
      hostname: fixedSample.hostname,
      addresses: fixedSample.addresses,
      arch: 'x64',
      cpu: fixedSample.cpu,
      ram: fixedSample.ram,
      load: fixedSample.load,
      uptimeSec: 3600,
      runtimes: ['docker'],
      deployments: [],
      working: [],
      failoverBuilds: [],
      protocolVersion: 1,
      dockerHealthy: true,
    });
    await send(MessageType.DeployRequest, request('hb'));
    await eventuallyPasses(() => { expect(statusesOf('hb').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => { expect(heartbeats().at(-1)?.deployments).toEqual(['hb']); }, 3_000, 5);
  });

  it('passes on the CPU busy percent and disk use the probe read', async () => {
    const probe = { sample: () => Promise.resolve({ ...fixedSample, cpuBusyPercent: 42.5, disk: { usedMb: 1200, totalMb: 30000 } }) };
    const { heartbeats } = await harness({ probe });
    await eventuallyPasses(() => { expect(heartbeats()).toHaveLength(1); }, 3_000, 5);
    expect(heartbeats()[0]).toMatchObject({ cpuBusyPercent: 42.5, disk: { usedMb: 1200, totalMb: 30000 } });
  });

  it('reports its orchestration priority when the agent gives one', async () => {
    const { heartbeats } = await harness({ options: { orchestrationPriority: 0 } });
    await eventuallyPasses(() => { expect(heartbeats()).toHaveLength(1); }, 3_000, 5);
    expect(heartbeats()[0]).toMatchObject({ orchestrationPriority: 0 });
  });

  it('reports docker unhealthy and no docker runtime when the engine does not answer', async () => {
    const { heartbeats } = await harness({ engine: { ping: () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) } });
    await eventuallyPasses(() => { expect(heartbeats()).toHaveLength(1); }, 3_000, 5);
    expect(heartbeats()[0]).toMatchObject({ runtimes: [], dockerHealthy: false });
  });

  it('reports the process runtime of a process deployer, without a docker health flag, and runs process requests', async () => {
    const deployer = new FakeDeployer();
    Object.assign(deployer, { runtime: 'process' });
    const { send, statusesOf, heartbeats } = await harness({ deployer });
    await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
    expect(heartbeats()[0]?.runtimes).toEqual(['process']);
    expect(heartbeats()[0]).not.toHaveProperty('dockerHealthy');
    expect(heartbeats()[0]).not.toHaveProperty('orchestrationPriority');
    await send(MessageType.DeployRequest, request('proc-ok', { runtime: 'process' }));
    await eventuallyPasses(() => { expect(statusesOf('proc-ok').at(-1)).toBe('Running'); }, 3_000, 5);
    await send(MessageType.DeployRequest, request('docker-no', { runtime: 'docker' }));
    await eventuallyPasses(() => { expect(statusesOf('docker-no')).toEqual(['Errored']); }, 3_000, 5);
  });

  it("reports what the deployer's runtime enforces", async () => {
    const deployer = new FakeDeployer();
    Object.assign(deployer, { runtime: 'process', isolation: { runsAs: 'agent', limits: false } });
    const { heartbeats } = await harness({ deployer });
    await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
    expect(heartbeats()[0]).toMatchObject({ runtimes: ['process'], isolation: { runsAs: 'agent', limits: false } });
  });

  it('reports no isolation for a deployer that does not say what it enforces', async () => {
    const { heartbeats } = await harness();
    await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
    expect(heartbeats()[0]).not.toHaveProperty('isolation');
  });

  describe('node.info extensions', () => {
    const extensionWarnings = (h: Harness): unknown[] =>
      h.logger.records.filter((record) => record.level === 'warn' && record.message.includes('without extensions')).map((record) => record.fields['error']);

    it('adds what the provider returns to every node.info, read afresh for each beat', async () => {
      let reading = 40;
      const { heartbeats } = await harness({
        options: { heartbeatInterval: 20 },
        nodeInfoExtensions: () => ({ 'temperature.celsius': reading++, 'temperature.zone': 'x86_pkg_temp', 'backup.ok': true }),
      });
      await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(2); }, 3_000, 5);
      expect(heartbeats()[0]?.extensions).toEqual({ 'temperature.celsius': 40, 'temperature.zone': 'x86_pkg_temp', 'backup.ok': true });
      expect(heartbeats()[1]?.extensions?.['temperature.celsius']).toBe(41);
    });

    it('goes out on time with the last readings when the provider (or the engine) is slow to answer', async () => {
      let calls = 0;
      const { heartbeats } = await harness({
        options: { heartbeatInterval: 50, nodeInfoExtensionsTimeout: '5s' },
        nodeInfoExtensions: async () => {
          calls += 1;
          // the first answer is quick; every later one hangs for longer than a beat
          if (calls > 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
          return { 'job.runs': calls };
        },
      });
      await eventuallyPasses(() => { expect(heartbeats().length).toBeGreaterThanOrEqual(4); }, 3_000, 5);
      expect(heartbeats().slice(0, 4).map((beat) => beat.extensions?.['job.runs'])).toEqual([1, 1, 1, 1]);
    });

    it('waits for an async provider', async () => {
      const { heartbeats } = await harness({ nodeInfoExtensions: async () => { await new Promise((resolve) => setTimeout(resolve, 10)); return { 'job.runs': 3 }; } });
      await eventuallyPasses(() => { expect(heartbeats()).toHaveLength(1); }, 3_000, 5);
      expect(heartbeats()[0]?.extensions).toEqual({ 'job.runs': 3 });
    });

    it('sends no extensions field without a provider', async () => {
      const { heartbeats } = await harness();
      await eventuallyPasses(() => { expect(heartbeats()).toHaveLength(1); }, 3_000, 5);
      expect(heartbeats()[0]).not.toHaveProperty('extensions');
    });

    it('keeps heartbeating without extensions when the provider throws, logging the failure once and counting each one', async () => {
      const failures: string[] = [];
      const current = await harness({
        options: { heartbeatInterval: 20 },
        nodeInfoExtensions: () => { throw new Error('sensor unplugged'); },
      });
      current.worker.on('failure', (error, { during }) => failures.push(`${during}: ${error.message}`));
      await eventuallyPasses(() => { expect(current.heartbeats().length).toBeGreaterThanOrEqual(3); }, 3_000, 5);
      expect(current.heartbeats().every((beat) => !('extensions' in beat))).toBe(true);
      expect(failures[0]).toBe('read node.info extensions: the node.info extensions provider failed: sensor unplugged');
      expect(current.worker.stats().failures).toBeGreaterThanOrEqual(2);
      expect(extensionWarnings(current)).toHaveLength(1);
    });

    it('keeps heartbeating without extensions when the provider returns values the protocol refuses, naming the key', async () => {
      const current = await harness({ nodeInfoExtensions: () => ({ 'temperature.celsius': { max: 40 } }) as unknown as Record<string, number> });
      await eventuallyPasses(() => { expect(current.heartbeats()).toHaveLength(1); }, 3_000, 5);
      expect(current.heartbeats()[0]).not.toHaveProperty('extensions');
      expect(extensionWarnings(current)).toEqual([
        expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^extensions\["temperature\.celsius"\]: expected a string/) as string }),
      ]);
    });

    it('does not let a provider that never answers hold the heartbeat past nodeInfoExtensionsTimeout', async () => {
      const current = await harness({ options: { heartbeatInterval: 20, nodeInfoExtensionsTimeout: 15 }, nodeInfoExtensions: () => new Promise<never>(() => undefined) });
      await eventuallyPasses(() => { expect(current.heartbeats().length).toBeGreaterThanOrEqual(2); }, 3_000, 5);
      expect(current.heartbeats()[0]).not.toHaveProperty('extensions');
      expect(extensionWarnings(current)).toEqual([expect.objectContaining({ code: 'TIMEOUT', message: 'the node.info extensions provider did not answer within 15 ms' })]);
    });

    it('puts the extensions back, and says so, once the provider recovers', async () => {
      let broken = true;
      const current = await harness({
        options: { heartbeatInterval: 20 },
        nodeInfoExtensions: () => {
          if (broken) throw new Error('warming up');
          return { 'temperature.celsius': 38 };
        },
      });
      await eventuallyPasses(() => { expect(current.heartbeats().length).toBeGreaterThanOrEqual(1); }, 3_000, 5);
      broken = false;
      await eventuallyPasses(() => { expect(current.heartbeats().at(-1)?.extensions).toEqual({ 'temperature.celsius': 38 }); }, 3_000, 5);
      expect(current.logger.records.some((record) => record.level === 'info' && record.message === 'node.info extensions are back')).toBe(true);
    });
  });

  it('sends deploy.stats for each running deployment from the deployer sample', async () => {
    const { send, statusesOf, telemetry } = await harness({ options: { statsInterval: 20 } });
    await send(MessageType.DeployRequest, request('measured'));
    await eventuallyPasses(() => { expect(statusesOf('measured').at(-1)).toBe('Running'); }, 3_000, 5);
    await eventuallyPasses(() => { expect(telemetry.some((message) => message.type === MessageType.DeployStats)).toBe(true); }, 3_000, 5);
    const stats = telemetry.find((message) => message.type === MessageType.DeployStats);
    expect(stats?.body).toMatchObject({ deploymentId: 'measured', cpuPercent: 12.5, memMb: 40, maxMemMb: 512, imageSizeMb: 120 });
  });

  it('sends deploy.stats at the slow interval while nobody watches, and one at once when someone starts to', async () => {
    const { send, statusesOf, telemetry, worker } = await harness({ options: { statsInterval: 20, idleStatsInterval: '1h' } });
    const statsSent = () => telemetry.filter((message) => message.type === MessageType.DeployStats).length;
    await send(MessageType.DeployRequest, request('quiet'));
    await eventuallyPasses(() => { expect(statusesOf('quiet').at(-1)).toBe('Running'); }, 3_000, 5);
    worker.setWatched(false);
    // one sample may have been on its way when the pace changed
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = statsSent();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statsSent()).toBe(before);
    worker.setWatched(true);
    await eventuallyPasses(() => { expect(statsSent()).toBeGreaterThanOrEqual(before + 2); }, 3_000, 5);
  });
});

describe('Worker: restart reconcile and stop', () => {
  it('reports containers found at start as Running without deploying, and resumes logs and stats', async () => {
    const deployer = new FakeDeployer();
    deployer.containers.set('survivor', {
      deploymentId: 'survivor',
      instanceId: 'c1',
      instanceName: 'kraken-survivor',
      artifact: 'kraken/app:survivor',
      appName: 'app',
      commit: 'b'.repeat(40),
      state: 'running',
      port: 3000,
      hostPort: 20_555,
    });
    deployer.containers.set('crashed', { ...deployer.containers.get('survivor')!, deploymentId: 'crashed', state: 'exited' });
    const { statuses, deployer: d, logs, telemetry } = await harness({ deployer, options: { statsInterval: 20, publicHost: 'node-a.lan' } });
    await eventuallyPasses(() => { expect(statuses).toHaveLength(1); }, 3_000, 5);
    expect(statuses[0]).toMatchObject({ deploymentId: 'survivor', status: 'Running', port: 20_555, url: 'http://node-a.lan:20555', commit: 'b'.repeat(40) });
    expect(d.deployCalls).toEqual([]);
    await eventuallyPasses(() => { expect(d.followers.has('survivor')).toBe(true); }, 3_000, 5);
    d.print('survivor', 'still here');
    await eventuallyPasses(() => { expect(logs('survivor')[0]).toMatchObject({ seq: 0, lines: [expect.objectContaining({ text: 'still here' })] }); }, 3_000, 5);
    await eventuallyPasses(() => { expect(telemetry.some((message) => message.type === MessageType.DeployStats && message.body.deploymentId === 'survivor')).toBe(true); }, 3_000, 5);
  });

  it('stop() stops consuming and timers, leaves containers running and the broker open', async () => {
    const { send, statusesOf, worker, deployer, broker, heartbeats } = await harness({ options: { heartbeatInterval: 10 } });
    await send(MessageType.DeployRequest, request('stays'));
    await eventuallyPasses(() => { expect(statusesOf('stays').at(-1)).toBe('Running'); }, 3_000, 5);
    await worker.stop();
    // let messages already published reach the consumer
    await new Promise((resolve) => setTimeout(resolve, 20));
    const beats = heartbeats().length;
    // the last one says it stops, with the app it leaves running
    expect(heartbeats().at(-1)).toMatchObject({ stopping: true, deployments: ['stays'] });
    expect(heartbeats().slice(0, -1).some((beat) => beat.stopping !== undefined)).toBe(false);
    await send(MessageType.DeployStop, { deploymentId: 'stays' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(deployer.stopCalls).toEqual([]);
    expect(deployer.containers.has('stays')).toBe(true);
    expect(deployer.followers.has('stays')).toBe(false);
    expect(heartbeats()).toHaveLength(beats);
    expect(broker.stats().connected).toBe(true);
  });
});
