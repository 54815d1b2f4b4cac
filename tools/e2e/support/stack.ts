import { AmqpBroker } from '@kraken/broker';
import { MemoryLogger } from '@kraken/common';
import { DockerDeployer } from '@kraken/docker-deployer';
import { ProcessDeployer } from '@kraken/process-deployer';
import type { OrchestratorOptions, OrchestratorQueues, PortRange } from '@kraken/orchestrator';
import { DataKey, Orchestrator, OrchestratorStore, createApiServer } from '@kraken/orchestrator';
import type { ApiServer, ListeningApi } from '@kraken/orchestrator';
import { eventually, freePortRange, isolatedVhost, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import type { IsolatedVhost, TempDir } from '@kraken/testing';
import { Worker } from '@kraken/worker';
import type { WorkerCreateOptions, WorkerOptions } from '@kraken/worker';
import path from 'node:path';
import { docker, removeKrakenResources, templatesDir } from './docker.js';
import { cleanupAll } from './wait.js';
import { WorkerChild } from './worker-child.js';

export const TOKEN = 'e2e-token-0123456789abcdef';

/** Worker timings for tests: fast heartbeats and stats so a test sees them within seconds. */
export const testWorkerOptions = {
  heartbeatInterval: '500ms',
  statsInterval: '1s',
  publicHost: '127.0.0.1',
} as const satisfies WorkerOptions;

export interface StackOptions {
  /** Liveness and ticking; queues and port range are set by the stack. */
  orchestrator?: Omit<OrchestratorOptions, 'queues' | 'portRange'>;
}

/**
 * One orchestrator with its SQLite store in a temp dir, the GraphQL/REST API on a free port, and
 * RabbitMQ queues in a vhost no other test (nor a Kraken running on this machine) uses. Workers (in this process, or child processes) join it
 * through `queues`. `close()` removes everything the stack and its workers made.
 */
export class Stack {
  readonly nodeIds = new Set<string>();
  readonly deploymentIds = new Set<string>();
  readonly brokers: AmqpBroker[] = [];
  private readonly workers: Worker[] = [];
  private readonly processDeployers: ProcessDeployer[] = [];
  private readonly children: WorkerChild[] = [];

  private constructor(
    private readonly vhost: IsolatedVhost,
    readonly dir: TempDir,
    readonly queues: OrchestratorQueues,
    /** Where rejected messages go: the stack's own, so a test never fills the cluster-wide one. */
    readonly deadLetterQueue: string,
    readonly store: OrchestratorStore,
    readonly orchestrator: Orchestrator,
    readonly api: ApiServer,
    readonly server: ListeningApi,
    /** Host ports this stack's orchestrator hands out: free when the stack started, outside any Kraken's default range. */
    readonly portRange: PortRange,
  ) {}

  /** The stack's own vhost on the test RabbitMQ. */
  get amqpUrl(): string {
    return this.vhost.url;
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    await requireRabbit();
    await docker.ping();
    const vhost = await isolatedVhost('kraken-e2e');
    const url = vhost.url;
    const dir = await tempDir('kraken-e2e-');
    const prefix = uniqueName('e2e');
    const queues: OrchestratorQueues = {
      orchestrator: `${prefix}.orchestrator`,
      telemetry: `${prefix}.telemetry`,
      node: (nodeId) => `${prefix}.node.${nodeId}`,
    };
    const deadLetterQueue = `${prefix}.dead-letter`;
    const broker = await AmqpBroker.create({ url, deadLetterQueue });
    const store = OrchestratorStore.open({ dataDir: path.join(dir.path, 'orchestrator'), dataKey: DataKey.generate('the e2e stack') });
    // not the default range: a Kraken running on this machine hands those ports out to its own apps
    const portRange = await freePortRange(100);
    const orchestrator = await Orchestrator.create({
      broker,
      store,
      nodeId: 'e2e-leader',
      logger: new MemoryLogger(),
      options: { tickIntervalMs: 250, ...options.orchestrator, queues, portRange },
    });
    const api = await createApiServer({ orchestrator, store, token: TOKEN, logger: new MemoryLogger() });
    const server = await api.listen(0, '127.0.0.1');
    const stack = new Stack(vhost, dir, queues, deadLetterQueue, store, orchestrator, api, server, portRange);
    stack.brokers.push(broker);
    return stack;
  }

  /** A fresh node id, remembered for cleanup (queues, containers, images). */
  newNodeId(name: string): string {
    const id = uniqueName(`e2e-${name}`);
    this.nodeIds.add(id);
    return id;
  }

  /** A real Worker with a real DockerDeployer in this process, on its own broker connection. */
  startWorker(nodeId: string, options: Omit<WorkerOptions, 'queues'> = {}): Promise<Worker> {
    const deployer = new DockerDeployer({
      docker,
      nodeId,
      workDir: path.join(this.dir.path, 'work', nodeId),
      templatesDir,
      logger: new MemoryLogger(),
      readyTimeout: '90s',
    });
    return this.runWorker(nodeId, deployer, options);
  }

  /** A real Worker in this process with the process runtime (no container engine), its apps under the stack's temp dir. */
  async startProcessWorker(nodeId: string, options: Omit<WorkerOptions, 'queues'> = {}): Promise<Worker> {
    const deployer = await ProcessDeployer.create({
      dataDir: path.join(this.dir.path, 'process', nodeId),
      nodeId,
      logger: new MemoryLogger(),
      readyTimeout: '90s',
      stopTimeout: '5s',
    });
    this.processDeployers.push(deployer);
    return this.runWorker(nodeId, deployer, options);
  }

  /** A worker of either runtime (as startWorker or startProcessWorker), once the orchestrator has heard its first heartbeat. */
  async startRuntimeWorker(runtime: 'docker' | 'process', nodeId: string, options: Omit<WorkerOptions, 'queues'> = {}): Promise<Worker> {
    const worker = runtime === 'docker' ? await this.startWorker(nodeId, options) : await this.startProcessWorker(nodeId, options);
    await eventually(() => this.store.nodes.get(nodeId), 30_000, `${nodeId} to report in`);
    return worker;
  }

  private async runWorker(nodeId: string, deployer: WorkerCreateOptions['deployer'], options: Omit<WorkerOptions, 'queues'>): Promise<Worker> {
    this.nodeIds.add(nodeId);
    const broker = await AmqpBroker.create({ url: this.amqpUrl, deadLetterQueue: this.deadLetterQueue });
    this.brokers.push(broker);
    const worker = await Worker.create({
      broker,
      deployer,
      // the Docker runtime's engine answers the heartbeat's ping; the process runtime has none
      ...(deployer instanceof DockerDeployer ? { engine: docker } : {}),
      nodeId,
      logger: new MemoryLogger(),
      options: {
        ...testWorkerOptions,
        ...options,
        queues: { orchestrator: this.queues.orchestrator, telemetry: this.queues.telemetry, node: this.queues.node(nodeId) },
      },
    });
    this.workers.push(worker);
    return worker;
  }

  /**
   * A real Worker in a child process (see WorkerChild), joined to this stack's queues; starting
   * it again with the same node id is an agent restart on the same machine.
   */
  async startWorkerProcess(nodeId: string): Promise<WorkerChild> {
    this.nodeIds.add(nodeId);
    const child = await WorkerChild.start(
      {
        amqpUrl: this.amqpUrl,
        deadLetterQueue: this.deadLetterQueue,
        nodeId,
        queues: { orchestrator: this.queues.orchestrator, telemetry: this.queues.telemetry, node: this.queues.node(nodeId) },
        workDir: path.join(this.dir.path, 'work', nodeId),
        templatesDir,
        options: testWorkerOptions,
      },
      path.join(this.dir.path, `${nodeId}.log`),
    );
    this.children.push(child);
    return child;
  }

  async close(): Promise<void> {
    await cleanupAll([
      ...this.children.map((child) => [`stop worker process ${child.nodeId}`, () => child.stop()] as const),
      ...this.workers.map((worker) => [`stop worker ${worker.nodeId}`, () => worker.stop()] as const),
      // process-runtime apps outlive their deployer on purpose (an agent restart adopts them): a test's go with it
      ...this.processDeployers.map(
        (deployer, i) =>
          [
            `stop the apps of process deployer ${i}`,
            async () => {
              for (const deployment of await deployer.list()) await deployer.stop(deployment.deploymentId);
              await deployer.close();
            },
          ] as const,
      ),
      ['close api', () => this.api.close()],
      ['close orchestrator', () => this.orchestrator.close()],
      ...this.brokers.map((broker, i) => [`close broker ${i}`, () => broker.close()] as const),
      ['remove containers and images', () => removeKrakenResources({ nodeIds: this.nodeIds, deploymentIds: this.deploymentIds })],
      // its queues go with it
      ['remove vhost', () => this.vhost.remove()],
      [
        'close store',
        () => {
          this.store.close();
          return Promise.resolve();
        },
      ],
      ['remove temp dir', () => this.dir.remove()],
    ]);
  }
}
