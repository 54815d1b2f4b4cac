import { isoTime, withTimeout } from '@kraken/common';
import type { FailoverBuild, NodeInfoBody, NodeInfoExtensions } from '@kraken/messages';
import { MessageType, PROTOCOL_VERSION, Runtime, fitIsolation } from '@kraken/messages';
import type { Background } from './background.js';
import type { Deployer, EngineProbe } from './deployer.js';
import type { NodeInfoExtensionsProvider } from './node-info-extensions.js';
import { readNodeInfoExtensions } from './node-info-extensions.js';
import type { CompiledWorkerOptions } from './options.js';
import type { StatusOutbox } from './status-outbox.js';
import type { SystemProbe, SystemSample } from './system-probe.js';
import type { Tracked, TrackedDeployments } from './tracked.js';
import type { WorkerPart } from './worker-events.js';

/** How long a heartbeat waits for the engine's and the add-ons' fresh answers before it goes with the last ones. */
const READINGS_BUDGET_MS = 200;

/** What a heartbeat says of the container engine and the add-ons, read beside it. */
interface HeartbeatReadings {
  engineHealthy: boolean;
  extensions: NodeInfoExtensions | undefined;
}

export interface TelemetryLoopOptions extends WorkerPart {
  settings: Pick<CompiledWorkerOptions, 'heartbeatIntervalMs' | 'statsIntervalMs' | 'idleStatsIntervalMs' | 'enginePingTimeoutMs' | 'nodeInfoExtensionsTimeoutMs' | 'orchestrationPriority'>;
  probe: SystemProbe;
  engine: EngineProbe;
  runtime: Runtime;
  deployer: Pick<Deployer, 'stats' | 'isolation'>;
  extensionsProvider: NodeInfoExtensionsProvider | undefined;
  deployments: Pick<TrackedDeployments, 'values'>;
  /** The failover builds this node holds, which every heartbeat lists; undefined: it makes none. */
  failoverBuilds: () => FailoverBuild[] | undefined;
  outbox: Pick<StatusOutbox, 'telemetry'>;
  background: Pick<Background, 'run'>;
  stopped: () => boolean;
}

/**
 * What the node says of itself on a timer: node.info heartbeats (the machine, the engine, the
 * add-ons, the deployments it holds) and each running app's deploy.stats.
 */
export class TelemetryLoop {
  private lastAddresses: string[] = [];
  /** The extensions failure last logged: a provider failing every beat is logged once, not every 2 s. */
  private extensionsProblem: string | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  /** Whether someone watches the cluster: stats go out every statsInterval, else every idleStatsInterval. */
  private watched = true;
  private heartbeatInFlight: Promise<void> | undefined;
  private lastReadings: HeartbeatReadings | undefined;
  private readingsInFlight: Promise<HeartbeatReadings> | undefined;

  constructor(private readonly options: TelemetryLoopOptions) {}

  /** The node's addresses as of the last heartbeat. */
  get addresses(): readonly string[] {
    return this.lastAddresses;
  }

  start(): void {
    this.heartbeatTimer = setInterval(() => {
      this.beat();
    }, this.options.settings.heartbeatIntervalMs);
    this.scheduleStats();
    this.beat();
  }

  /** Ends the timers; `settled()` then waits for a heartbeat on its way. */
  stop(): void {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.statsTimer);
  }

  async settled(): Promise<void> {
    await this.heartbeatInFlight;
  }

  /**
   * The last heartbeat says the agent stops cleanly while its apps run on: without it the leader
   * would take the silence (and the closed broker connection) for a crash and move the apps
   * within seconds, while an update or a service restart brings the agent back as quickly.
   */
  async sayStopping(): Promise<void> {
    try {
      const system = await this.options.probe.sample();
      const { engineHealthy, extensions } = this.lastReadings ?? { engineHealthy: true, extensions: undefined };
      const body: NodeInfoBody = { ...this.nodeInfo(system, engineHealthy, extensions), stopping: true };
      await this.options.outbox.telemetry(MessageType.NodeInfo, body);
    } catch (error) {
      this.options.report.fail(error, 'say it stops');
    }
  }

  /** Paces app stats as Worker.setWatched says. */
  setWatched(watched: boolean): void {
    if (watched === this.watched || this.options.stopped()) return;
    this.watched = watched;
    this.options.logger.debug(watched ? 'someone watches the cluster: app stats at the fast interval' : 'nobody watches the cluster: app stats at the slow interval');
    this.scheduleStats();
    if (watched) this.sampleAllStats();
  }

  /** One heartbeat at a time: a slow probe or broker skips beats rather than piling them up. */
  private beat(): void {
    if (this.heartbeatInFlight !== undefined || this.options.stopped()) return;
    this.heartbeatInFlight = this.heartbeat()
      .catch((error: unknown) => {
        this.options.report.fail(error, 'heartbeat');
      })
      .finally(() => {
        this.heartbeatInFlight = undefined;
      });
  }

  private async heartbeat(): Promise<void> {
    const system = await this.options.probe.sample();
    // A heartbeat says the agent lives, so it leaves on time even when the engine or an add-on is
    // slow to answer: waiting for a stalled dockerd's ping would make it late, and the leader's
    // failure detector would take a node whose engine hangs for a node that is gone. It waits a
    // moment for fresh answers, else carries the last ones (only the very first beat waits longer).
    const asking = this.readEngineAndExtensions();
    const fresh = await withTimeout(asking, READINGS_BUDGET_MS, () => undefined);
    const { engineHealthy, extensions } = fresh ?? this.lastReadings ?? (await asking);
    this.lastAddresses = system.addresses;
    const body = this.nodeInfo(system, engineHealthy, extensions);
    if (this.options.stopped()) return;
    await this.options.outbox.telemetry(MessageType.NodeInfo, body);
    this.options.report.counters.heartbeatsSent++;
    this.options.report.emit('heartbeat', body);
  }

  private nodeInfo(system: SystemSample, engineHealthy: boolean, extensions: NodeInfoExtensions | undefined): NodeInfoBody {
    const { nodeId, runtime, deployer, settings } = this.options;
    const held = this.options.deployments.values();
    const failoverBuilds = this.options.failoverBuilds();
    return {
      nodeId,
      hostname: system.hostname.slice(0, 253) || nodeId,
      addresses: system.addresses.slice(0, 64),
      arch: system.arch,
      cpu: system.cpu,
      ram: system.ram,
      load: system.load,
      uptimeSec: system.uptimeSec,
      ...(system.cpuBusyPercent === undefined ? {} : { cpuBusyPercent: system.cpuBusyPercent }),
      ...(system.disk === undefined ? {} : { disk: system.disk }),
      runtimes: engineHealthy ? [runtime] : [],
      ...(deployer.isolation === undefined ? {} : { isolation: fitIsolation(deployer.isolation) }),
      deployments: held.filter((t) => t.phase === 'running').map((t) => t.deploymentId),
      working: held.filter((t) => t.phase !== 'running').map((t) => t.deploymentId),
      ...(failoverBuilds === undefined ? {} : { failoverBuilds }),
      protocolVersion: PROTOCOL_VERSION,
      ...(settings.orchestrationPriority === undefined ? {} : { orchestrationPriority: settings.orchestrationPriority }),
      // only a Docker runtime has an engine that can stop answering
      ...(runtime === Runtime.Docker ? { dockerHealthy: engineHealthy } : {}),
      ...(extensions === undefined ? {} : { extensions }),
    };
  }

  /** Undefined without a provider or when it failed; a failure is counted and emitted every time. */
  private async readExtensions(): Promise<NodeInfoExtensions | undefined> {
    const { extensionsProvider, logger, report } = this.options;
    if (extensionsProvider === undefined) return undefined;
    const result = await readNodeInfoExtensions(extensionsProvider, this.options.settings.nodeInfoExtensionsTimeoutMs);
    if (result.ok) {
      if (this.extensionsProblem !== undefined) logger.info('node.info extensions are back');
      this.extensionsProblem = undefined;
      return result.value;
    }
    report.counters.failures++;
    report.emit('failure', result.error, { during: 'read node.info extensions' });
    if (result.error.message !== this.extensionsProblem) {
      this.extensionsProblem = result.error.message;
      logger.warn('node.info goes out without extensions until the provider recovers', { error: result.error });
    }
    return undefined;
  }

  private readEngineAndExtensions(): Promise<HeartbeatReadings> {
    this.readingsInFlight ??= Promise.all([this.pingEngine(), this.readExtensions()])
      .then(([engineHealthy, extensions]) => (this.lastReadings = { engineHealthy, extensions }))
      .finally(() => {
        this.readingsInFlight = undefined;
      });
    return this.readingsInFlight;
  }

  private async pingEngine(): Promise<boolean> {
    try {
      return await withTimeout(
        this.options.engine.ping().then(() => true),
        this.options.settings.enginePingTimeoutMs,
        () => false,
      );
    } catch (error) {
      this.options.logger.debug('container engine did not answer a ping', { error });
      return false;
    }
  }

  private scheduleStats(): void {
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(
      () => {
        this.sampleAllStats();
      },
      this.watched ? this.options.settings.statsIntervalMs : this.options.settings.idleStatsIntervalMs,
    );
  }

  private sampleAllStats(): void {
    for (const t of this.options.deployments.values()) {
      if (t.phase !== 'running' || t.statsInFlight) continue;
      t.statsInFlight = true;
      this.options.background.run(
        this.sampleStats(t).finally(() => {
          t.statsInFlight = false;
        }),
        'deploy stats',
        t.deploymentId,
      );
    }
  }

  private async sampleStats(t: Tracked): Promise<void> {
    const sample = await this.options.deployer.stats(t.deploymentId);
    if (this.options.stopped() || t.phase !== 'running') return;
    const nonNegative = (value: number): number => (Number.isFinite(value) && value > 0 ? value : 0);
    const body = {
      deploymentId: t.deploymentId,
      cpuPercent: nonNegative(sample.cpuPercent),
      memMb: nonNegative(sample.memMb),
      maxMemMb: nonNegative(sample.maxMemMb),
      imageSizeMb: nonNegative(sample.imageSizeMb),
      at: isoTime(this.options.clock),
    };
    await this.options.outbox.telemetry(MessageType.DeployStats, body);
    this.options.report.counters.statsSent++;
  }
}
