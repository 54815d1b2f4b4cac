import type { DeployRequest, PrepareRequest, PrepareResult } from './request.js';

/** A deployment as this node runs it, in words every runtime has. */
export interface Deployment {
  deploymentId: string;
  /** What runs the app: the container's id (Docker), the process group id, its leader's pid (processes). */
  instanceId: string;
  /** `instanceName(deploymentId, nodeId)`: the container's name, or the same words for a process. */
  instanceName: string;
  /** What the app runs from: the image (Docker), or `process:<lang>` (processes). */
  artifact: string;
  appName: string;
  commit: string;
  /** The runtime's word for its state: running, restarting, exited, ... */
  state: string;
  /** The app's port inside its container (its host port for a process), when it has one. */
  port: number | undefined;
  /** Where the app is published on this node, when it has a port. */
  hostPort: number | undefined;
}

export interface DeployResult extends Deployment {
  /** true when the deployment was already running (after an agent restart) and nothing was built. */
  reused: boolean;
  /**
   * true when a redeploy of the commit already running (a settings change) started the app again
   * from the build this node has, with the new environment: no clone, build or test.
   */
  buildReused?: boolean;
  /**
   * Set when the request asked for a kept build (`fromKept`): true when the app runs from the image
   * this node kept of that commit (no clone, build or test), false when none was kept and it was built again.
   */
  fromKept?: boolean;
}

/** Which of the app's output streams a line came from. */
export type OutputStream = 'stdout' | 'stderr';

export interface LogLine {
  stream: OutputStream;
  text: string;
  at: Date;
  /**
   * Where this line ends in the runtime's log, opaque to everyone but the runtime that made it:
   * handed back as `FollowLogsOptions.after`, following resumes right after this line. Absent on
   * a line that cannot be resumed after (a piece of an over-long line).
   */
  cursor?: string;
}

export interface FollowLogsOptions {
  /** Lines written from this time on. @default now */
  since?: Date;
  /**
   * A `LogLine.cursor` this runtime gave earlier (in this process or a previous one): the lines
   * after it, and nothing before. Used instead of `since` when the runtime still recognises it;
   * otherwise `since` applies.
   */
  after?: string;
  /**
   * Lines the follow leaves out, counted so the gap is visible, each time it happens and before
   * the lines after the gap: lines between `after` and now that are not replayed, because the
   * replay is bounded (a long outage must not replay gigabytes), and lines a runtime's bounded log
   * dropped before they were read (a flood faster than the follow or its consumer).
   */
  onSkipped?: (lines: number) => void;
  /**
   * Asked after each read: while true, reading waits (the lines wait in the log, which the app
   * keeps writing), so a consumer that falls behind (a slow broker, the replay after an outage)
   * loses nothing to its own buffer. One read delivers at most MAX_LOG_READ_LINES lines.
   */
  isFull?: () => boolean;
}

export interface LogFollower {
  stop(): void;
  /** Settles when following ends: stop(), or the app went away. */
  readonly done: Promise<void>;
}

export interface StatsSample {
  /** Percent of one CPU core (200 = two cores fully busy), as `docker stats` shows it. */
  cpuPercent: number;
  /** Memory in use, without the page cache (what `docker stats` shows). */
  memMb: number;
  /** The memory limit the runtime enforces on the app; 0 when it enforces none. */
  maxMemMb: number;
  /** Size of what the app runs from: the container's image, or the process runtime's built folder. */
  imageSizeMb: number;
}

/**
 * A running app ended or started again on its own: the runtime's restart of an app that exited,
 * which the worker counts to tell a crash-looping app from a steady one. Stops and starts a deploy
 * makes are reported too; the worker knows when it deploys or stops and ignores those.
 */
export type AppRunEvent =
  | {
      kind: 'exit';
      deploymentId: string;
      at: Date;
      code?: number | undefined;
      signal?: string | undefined;
      /** Why, when the runtime knows more than the code says: "it went past its memory limit of 64 MB". */
      cause?: string | undefined;
    }
  | { kind: 'start'; deploymentId: string; at: Date };

/** Why an app ended, when the kernel ended it at its memory limit (either runtime says it so). */
export function memoryLimitCause(memoryMb?: number): string {
  return `it went past its memory limit${memoryMb === undefined ? '' : ` of ${String(memoryMb)} MB`}`;
}

export interface RunWatcher {
  stop(): void;
  /** Settles when watching ends: stop(), or the runtime's event stream ended (an engine restart). */
  readonly done: Promise<void>;
}

/**
 * What the worker asks of a runtime (Docker, plain processes): deploy, stop, start, list, logs,
 * stats. Each runtime implements it; the worker and its tests know only this.
 */
export interface Deployer {
  /** Resolves when the app answers; rejects with a KrakenError whose message is the reason. */
  deploy(request: DeployRequest): Promise<DeployResult>;
  /** Stops and removes the deployment (its container, or its processes and folder); NotFound when this node runs none. */
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
  /** This node's deployments, found from what the runtime keeps (container labels, state files): used to reconcile after a restart. */
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
