import { createNetnsLab, freePort } from '@kraken/testing';
import type { NetnsLab } from '@kraken/testing';
import type { LabWorker } from '../test/lab-child-process.js';
import { startLabWorker } from '../test/lab-child-process.js';
import type { ScanResult } from './scan.js';

// The scanner runs in a namespace of the lab and scans the lab's /24 through its eth0: no probe
// reaches a real interface.
describe('scanSubnet in a lab /24', () => {
  let lab: NetnsLab;
  let scanner: LabWorker;
  let others: LabWorker[] = [];
  let port: number;

  const scan = async (options: { clusterId?: string } = {}): Promise<ScanResult> => {
    const job = scanner.run({ mode: 'scan', options: { interfaceName: 'eth0', port, ...options } });
    const done = await job.waitFor((event) => event.event === 'scanned', 60_000);
    return done['result'] as ScanResult;
  };

  beforeAll(async () => {
    // the orchestrator sits near the end of the subnet, so the scan has to get through it
    lab = await createNetnsLab({ name: 'discovery-scan', hosts: 3, hostOctets: [2, 3, 250] });
    const workers = await Promise.all(lab.hosts.map((host) => startLabWorker(lab, host)));
    scanner = workers[0]!;
    others = workers.slice(1);
    // any port will do: the host machine has .1 in the subnet, but the lab cannot reach its services
    port = await freePort();
    const [plainWeb, orchestrator] = others as [LabWorker, LabWorker];
    await Promise.all([
      plainWeb.run({ mode: 'ping-server', port, body: 'hello' }).waitFor((event) => event.event === 'listening', 15_000),
      orchestrator
        .run({ mode: 'ping-server', port, clusterId: 'lab-cluster', protocolVersion: '1' })
        .waitFor((event) => event.event === 'listening', 15_000),
    ]);
  });

  afterAll(async () => {
    await Promise.all([scanner, ...others].map((worker) => worker.close()));
    await lab.destroy();
  });

  it("finds the host answering pong, with its cluster and protocol headers, after probing every host of the interface's /24", async () => {
    const result = await scan();

    expect(result).toEqual({
      cidr: lab.subnet,
      total: 254,
      scanned: 254,
      aborted: false,
      candidates: [
        {
          url: `http://${lab.host(3).address}:${port}`,
          source: 'scan',
          clusterId: 'lab-cluster',
          protocolVersion: '1',
          compatible: true,
        },
      ],
    });
  });

  it('skips an orchestrator that says it belongs to another cluster', async () => {
    expect((await scan({ clusterId: 'another-cluster' })).candidates).toEqual([]);
  });

  it('does not find a host that is cut off', async () => {
    await lab.cut(3);
    try {
      expect((await scan()).candidates).toEqual([]);
    } finally {
      await lab.restore(3);
    }
  });
});
