import path from 'node:path';
import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import type { Deployer, EngineProbe } from '@kraken/worker';
import { FileLogCursorStore, OsSystemProbe, Worker } from '@kraken/worker';
import type { Executor } from '../run/executor.js';

export interface WorkerExecutorOptions {
  broker: Broker;
  deployer: Deployer;
  engine?: EngineProbe | undefined;
  nodeId: string;
  logger: Logger;
  /** Heartbeats report the use of the filesystem that holds it; the worker keeps its log cursors in it. */
  dataDir: string;
  publicHost?: string | undefined;
  /** When a crash-looping app is stopped, and when a restarted one counts as recovered. @default the worker's */
  crashLoop?: { restarts: number; steadyAfterMs: number } | undefined;
  /** 0 when this agent leads, 1 for a standby; unset for a plain worker. */
  orchestrationPriority?: number | undefined;
  /** Build other nodes' apps ahead for a move here. @default the worker's (on) */
  failoverBuilds?: boolean | undefined;
  /** Called after the worker stopped: releases the runtime (apps keep running). */
  closeDeployer?: () => Promise<void>;
  /** Whether anyone watches the cluster (the leader's API, or its beacon), read every tick. @default always */
  watched?: () => boolean;
}

/** Runs this machine's apps. Stopping leaves them running: a restarted agent takes them over. */
export class WorkerExecutor implements Executor {
  readonly name = 'worker';
  private worker: Worker | undefined;

  constructor(private readonly options: WorkerExecutorOptions) {}

  async setup(): Promise<void> {
    const { broker, deployer, engine, nodeId, logger, dataDir, publicHost, orchestrationPriority, crashLoop, failoverBuilds } = this.options;
    this.worker = await Worker.create({
      broker,
      deployer,
      nodeId,
      logger,
      probe: new OsSystemProbe({ diskPath: dataDir }),
      // how far each app's log reached the broker: an agent back from a crash resumes there
      logCursors: await FileLogCursorStore.open({ dir: path.join(dataDir, 'log-cursors'), logger }),
      ...(engine === undefined ? {} : { engine }),
      options: {
        ...(publicHost === undefined ? {} : { publicHost }),
        ...(orchestrationPriority === undefined ? {} : { orchestrationPriority }),
        ...(crashLoop === undefined ? {} : { crashLoopRestarts: crashLoop.restarts, crashLoopSteadyAfter: crashLoop.steadyAfterMs }),
        ...(failoverBuilds === undefined ? {} : { failoverBuilds }),
      },
    });
  }

  /** Paces the apps' stats by whether anyone watches: reading a flag each second costs nothing, and needs no event wiring. */
  tick(): void {
    this.worker?.setWatched(this.options.watched?.() ?? true);
  }

  async stop(): Promise<void> {
    try {
      await this.worker?.stop();
    } finally {
      // the deployer's folder must be free for the agent that starts next in this process
      await this.options.closeDeployer?.();
    }
  }
}
