import type { AppRunEvent, DeployRequest, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, PrepareRequest, PrepareResult, RunWatcher, StatsSample } from '@kraken/docker-deployer';
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
  /**
   * A failover build: builds a commit of a deployment that runs on another node, at low priority,
   * with no test and no run, and keeps it so that a deploy with `fromKept` and that commit starts it
   * without a build. Resolves at once when that commit is kept already; rejects with a KrakenError
   * (Conflict when the deployment runs or deploys here). Optional: a runtime without it reports its
   * failover builds as failed.
   */
  prepare?(request: PrepareRequest): Promise<PrepareResult>;
  /** Frees what this node keeps of a deployment it does not run (Conflict when it runs or deploys here). */
  forgetKept?(deploymentId: string): Promise<void>;
}

/** Anything that answers when the container engine is up (dockerode's `ping`). */
export interface EngineProbe {
  ping(): Promise<unknown>;
}
