import type { AppRunEvent, DeployRequest, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, RunWatcher, StatsSample } from '@kraken/docker-deployer';
import type { Isolation, Runtime } from '@kraken/messages';

/**
 * The part of a deployer the worker depends on. DockerDeployer satisfies it; unit tests use a
 * fake. Kept narrow so another runtime (plain processes) can be added without touching the worker.
 */
export interface Deployer {
  /** What runs the apps: reported in heartbeats and checked against requests. @default 'docker' */
  readonly runtime?: Runtime;
  /** What the runtime enforces on the apps (whose user they run as, limits): reported in heartbeats. */
  readonly isolation?: Isolation;
  /** Resolves when the app answers; rejects with a KrakenError whose message is the reason. */
  deploy(request: DeployRequest): Promise<DeployResult>;
  /** Stops and removes the deployment's container; NotFound when this node runs none. */
  stop(deploymentId: string): Promise<void>;
  /**
   * Stops the app and keeps what was built (the container and image, or the built folder) for
   * startApp; stopping a stopped one does nothing. NotFound when this node holds none.
   */
  stopApp(deploymentId: string): Promise<void>;
  /**
   * Runs a stopped app again from what was built (no clone, build or test) and resolves when it
   * answers. NotFound when this node holds none; a start that fails leaves it stopped.
   */
  startApp(deploymentId: string): Promise<Deployment>;
  /** This node's deployments, found from container labels (used to reconcile after a restart). */
  list(): Promise<Deployment[]>;
  /** Lines carry a cursor when the runtime can resume after them (`options.after`), exactly across a worker restart. */
  followLogs(deploymentId: string, onLine: (line: LogLine) => void, options?: FollowLogsOptions): Promise<LogFollower>;
  stats(deploymentId: string): Promise<StatsSample>;
  /**
   * Reports apps ending and being restarted by the runtime, so crash loops are seen. Optional: a
   * runtime without it reports no restarts, and its crash-looping apps look steady.
   */
  watchRuns?(listener: (event: AppRunEvent) => void): Promise<RunWatcher>;
}

/** Anything that answers when the container engine is up (dockerode's `ping`). */
export interface EngineProbe {
  ping(): Promise<unknown>;
}
