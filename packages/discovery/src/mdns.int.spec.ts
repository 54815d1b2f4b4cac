import { createNetnsLab } from '@kraken/testing';
import type { NetnsLab } from '@kraken/testing';
import type { Job, LabWorker } from '../test/lab-child-process.js';
import { startLabWorker } from '../test/lab-child-process.js';
import type { Candidate } from './candidate.js';
import type { KrakenTxtInput } from './txt.js';

// Every announcer and browser runs in a namespace of the lab: no multicast reaches a real interface.
describe('mDNS discovery between hosts of a lab', () => {
  let lab: NetnsLab;
  let workers: LabWorker[] = [];

  const announceIn = async (host: number, name: string, txt: Partial<KrakenTxtInput> & Record<string, unknown>): Promise<Job> => {
    const job = workers[host - 1]!.run({
      mode: 'announce',
      options: {
        name,
        port: 4000,
        txt: { clusterId: 'lab-cluster', role: 'orchestrator', priority: 0, apiPort: 4000, ...txt },
        interfaceAddress: lab.host(host).address,
      },
    });
    await job.waitFor((event) => event.event === 'announced', 15_000);
    return job;
  };
  const findFrom = async (
    host: number,
    options: { timeoutMs?: number; clusterId?: string; includeIncompatible?: boolean },
  ): Promise<Candidate | null> => {
    const job = workers[host - 1]!.run({
      mode: 'find',
      options: { interfaceAddress: lab.host(host).address, timeoutMs: 10_000, ...options },
    });
    const found = await job.waitFor((event) => event.event === 'found', 30_000);
    return found['candidate'] as Candidate | null;
  };
  const findAllFrom = async (host: number, options: { timeoutMs: number; settleMs?: number }): Promise<Candidate[]> => {
    const job = workers[host - 1]!.run({ mode: 'find-all', options: { interfaceAddress: lab.host(host).address, ...options } });
    const found = await job.waitFor((event) => event.event === 'found-all', 60_000);
    return found['candidates'] as Candidate[];
  };
  const browseFrom = (host: number): Job =>
    workers[host - 1]!.run({ mode: 'browse', options: { interfaceAddress: lab.host(host).address } });

  beforeAll(async () => {
    lab = await createNetnsLab({ name: 'discovery-mdns', hosts: 3 });
    workers = await Promise.all(lab.hosts.map((host) => startLabWorker(lab, host)));
  });

  afterEach(async () => {
    await Promise.all(workers.map((worker) => worker.stopAll()));
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await lab.destroy();
  });

  it("finds an orchestrator announced in another namespace, at the sender's lab address and TXT API port", async () => {
    await announceIn(1, 'orch-one', { apiPort: 4100 });

    const candidate = await findFrom(2, { clusterId: 'lab-cluster' });

    expect(candidate).toEqual({
      url: `http://${lab.host(1).address}:4100`,
      source: 'mdns',
      clusterId: 'lab-cluster',
      role: 'orchestrator',
      priority: 0,
      protocolVersion: '1',
      compatible: true,
      name: 'orch-one',
    });
  });

  it("finds every cluster's orchestrator on the link, not only the first to answer, and leaves standbys out", async () => {
    await announceIn(1, 'orch-a', { clusterId: 'cluster-a' });
    await announceIn(3, 'orch-b', { clusterId: 'cluster-b' });
    await announceIn(3, 'standby-b', { clusterId: 'cluster-b', role: 'standby', priority: 1, apiPort: 4001 });

    // a generous settle: the lab shares a loaded machine with other tests
    const found = await findAllFrom(2, { timeoutMs: 20_000, settleMs: 5_000 });

    expect(found.map((candidate) => `${candidate.clusterId} ${candidate.url}`).sort()).toEqual([
      `cluster-a http://${lab.host(1).address}:4000`,
      `cluster-b http://${lab.host(3).address}:4000`,
    ]);
  });

  it('reports a goodbye to browsers when the announcer stops gracefully', async () => {
    const announcer = await announceIn(1, 'orch-leaving', {});
    const browser = browseFrom(2);
    await browser.waitFor(
      (event) => event.event === 'candidate' && (event['candidate'] as Candidate).name === 'orch-leaving',
      15_000,
    );

    await announcer.stop();

    const gone = await browser.waitFor((event) => event.event === 'gone', 10_000);
    expect((gone['candidate'] as Candidate).url).toBe(`http://${lab.host(1).address}:4000`);
  });

  it('reports a candidate of another major protocol version flagged incompatible, and findOrchestrator passes it over', async () => {
    await announceIn(3, 'orch-future', { protocolVersion: '2.1' });
    const browser = browseFrom(2);

    const seen = await browser.waitFor((event) => event.event === 'candidate', 15_000);

    expect(seen['candidate']).toMatchObject({ name: 'orch-future', protocolVersion: '2.1', compatible: false });
    expect(await findFrom(1, { timeoutMs: 3_000 })).toBeNull();
    expect(await findFrom(1, { includeIncompatible: true })).toMatchObject({ name: 'orch-future' });
  });

  it("ignores another cluster's orchestrator and standbys when finding an orchestrator", async () => {
    await announceIn(1, 'orch-elsewhere', { clusterId: 'other-cluster' });
    await announceIn(3, 'standby-here', { role: 'standby', priority: 1 });

    expect(await findFrom(2, { clusterId: 'lab-cluster', timeoutMs: 3_000 })).toBeNull();
  });

  it('does not find an orchestrator whose host is cut off, and finds it again once restored', async () => {
    await announceIn(1, 'orch-cut', {});
    await lab.cut(1);
    try {
      expect(await findFrom(2, { timeoutMs: 3_000 })).toBeNull();
    } finally {
      await lab.restore(1);
    }
    expect(await findFrom(2, {})).toMatchObject({ name: 'orch-cut', url: `http://${lab.host(1).address}:4000` });
  });
});
