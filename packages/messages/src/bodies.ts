import { z } from 'zod';
import {
  branchSchema,
  commitSchema,
  deploymentNameSchema,
  envSchema,
  gitRemoteSchema,
  httpUrlSchema,
  idSchema,
  intAtLeast,
  intBetween,
  isoTimeSchema,
  numberAtLeast,
  numberBetween,
  oneOf,
  portSchema,
  positiveNumber,
  text,
  textBytes,
} from './fields.js';
import { isolationSchema } from './isolation.js';
import { nodeInfoExtensionsSchema } from './node-info-extensions.js';
import { DeploymentStatus } from './status.js';

// Body schemas use z.object, which strips unknown fields: a newer peer may add fields that an
// older one ignores. Removing or retyping a field needs a new PROTOCOL_VERSION instead.

/** How a worker can run an application. */
export const Runtime = {
  Docker: 'docker',
  Process: 'process',
} as const;
export type Runtime = (typeof Runtime)[keyof typeof Runtime];
const runtimeSchema = oneOf([Runtime.Docker, Runtime.Process]);

export const LogStream = {
  Stdout: 'stdout',
  Stderr: 'stderr',
  Build: 'build',
  Test: 'test',
  /** Lines Kraken itself writes about the deployment (cloning, placing, restarting). */
  System: 'system',
} as const;
export type LogStream = (typeof LogStream)[keyof typeof LogStream];

/** Bounds a log batch must respect; senders split or truncate to fit (and count what they drop). */
export const LogLimits = {
  maxLinesPerBatch: 5000,
  maxLineBytes: 16 * 1024,
} as const;

/**
 * How often a node sends node.info unless configured otherwise. The orchestrator's liveness
 * thresholds and its "has this node forgotten its work" wait are multiples of it, so both sides
 * read the default from here.
 */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2_000;

const statusValues = Object.values(DeploymentStatus) as [DeploymentStatus, ...DeploymentStatus[]];

const diskSchema = z
  .object({ usedMb: numberAtLeast(0), totalMb: numberAtLeast(0) })
  .refine((disk) => disk.usedMb <= disk.totalMb, { error: 'expected usedMb <= totalMb', path: ['usedMb'] });

/** How far a node got with a deployment's failover build (see `deploy.prepare`). */
export const FailoverBuildState = {
  Building: 'building',
  /** Built and kept: a move here runs it with no clone, build or test. */
  Ready: 'ready',
  Failed: 'failed',
} as const;
export type FailoverBuildState = (typeof FailoverBuildState)[keyof typeof FailoverBuildState];

/** The most failover builds one node.info lists; a leader asks a node for far fewer. */
export const MAX_FAILOVER_BUILDS = 128;

const failoverBuildSchema = z.object({
  deploymentId: idSchema,
  commit: commitSchema,
  state: oneOf([FailoverBuildState.Building, FailoverBuildState.Ready, FailoverBuildState.Failed]),
  /** Why it failed, for a failed one. */
  message: text(512).optional(),
});
export type FailoverBuild = z.infer<typeof failoverBuildSchema>;

export const nodeInfoBodySchema = z.object({
  nodeId: idSchema,
  hostname: text(253, { nonEmpty: true }),
  addresses: z.array(text(100, { nonEmpty: true })).max(64, { error: 'expected at most 64 addresses' }),
  arch: text(64, { nonEmpty: true }),
  cpu: z.object({ model: text(256), cores: intAtLeast(1) }),
  ram: z.object({ freeMb: numberAtLeast(0), usedMb: numberAtLeast(0), totalMb: numberAtLeast(0) }),
  load: z.object({ m1: numberAtLeast(0), m5: numberAtLeast(0), m15: numberAtLeast(0) }),
  uptimeSec: numberAtLeast(0),
  /**
   * Percent of the machine's CPU time (all cores) spent busy since the previous heartbeat, 0..100;
   * absent from agents older than this field.
   */
  cpuBusyPercent: numberBetween(0, 100).optional(),
  /** The filesystem that holds the agent's data dir; absent from older agents or when it cannot be read. */
  disk: diskSchema.optional(),
  runtimes: z.array(runtimeSchema).max(8, { error: 'expected at most 8 runtimes' }),
  /** What the node's runtime enforces on its apps; absent from agents older than this field. */
  isolation: isolationSchema.optional(),
  /** Ids of the deployments running on this node now; the orchestrator reconciles against it. */
  deployments: z.array(idSchema),
  /**
   * Ids of the deployments this node is deploying or destroying now (not running yet). With
   * `deployments`, it lets the orchestrator see work a restarted node no longer has.
   */
  working: z.array(idSchema).optional(),
  /**
   * The failover builds this node holds or works on for deployments that run elsewhere (asked for
   * with `deploy.prepare`); absent from agents older than this field.
   */
  failoverBuilds: z.array(failoverBuildSchema).max(MAX_FAILOVER_BUILDS, { error: `expected at most ${MAX_FAILOVER_BUILDS} failover builds` }).optional(),
  /** 0 = leader, 1 = standby; absent for a node that cannot orchestrate. */
  orchestrationPriority: intAtLeast(0).optional(),
  protocolVersion: intAtLeast(1),
  agentVersion: text(64).optional(),
  /** False when the node has a Docker runtime whose engine stopped answering. */
  dockerHealthy: z.boolean({ error: 'expected a boolean' }).optional(),
  /**
   * Readings an add-on executor contributes (`temperature.celsius`: 41.5): at most 32 entries of
   * strings, numbers or booleans. Shown as they are; nothing in Kraken acts on them.
   */
  extensions: nodeInfoExtensionsSchema.optional(),
  /**
   * The agent's last heartbeat before a clean stop (an update, a service restart): its apps keep
   * running and it means to come back, so the leader waits longer before moving them.
   */
  stopping: z.boolean({ error: 'expected a boolean' }).optional(),
});
export type NodeInfoBody = z.infer<typeof nodeInfoBodySchema>;

export const deployRequestBodySchema = z.object({
  deploymentId: idSchema,
  srcUrl: gitRemoteSchema,
  branch: branchSchema,
  /** Deploy exactly this commit; absent means the branch head at clone time. */
  commit: commitSchema.optional(),
  /** Host port; absent lets the worker allocate one and report it in `deploy.status`. */
  port: portSchema.optional(),
  env: envSchema.optional(),
  runtime: runtimeSchema.optional(),
  limits: z
    .object({
      memoryMb: intAtLeast(1).optional(),
      cpus: positiveNumber().optional(),
    })
    .optional(),
  /** Counts redeliveries of the same deployment (e.g. after a node died), starting at 1. */
  attempt: intAtLeast(1).default(1),
  /**
   * A redeploy: a node already running this deployment replaces it (stops it, deploys afresh)
   * instead of reporting it as running. Absent for a first deploy, a re-send or a move.
   */
  replace: z.boolean({ error: 'expected a boolean' }).optional(),
  /**
   * With `replace` and `commit` (a rollback, a restart with other settings): the node runs the
   * build of that commit it kept from an earlier deploy of this deployment, with no clone, build or
   * test; when it keeps none, it builds the commit.
   */
  fromKept: z.boolean({ error: 'expected a boolean' }).optional(),
});
export type DeployRequestBody = z.infer<typeof deployRequestBodySchema>;

/**
 * Asks a node that does not run a deployment to build the deployment's commit in the background, at
 * low priority, and keep it (as a redeploy keeps a build for a rollback), so that moving the
 * deployment there is a start, not a build. Its test already passed where the deployment runs. With
 * `forget`, the node frees what it keeps of the deployment instead (it was destroyed, or another node
 * holds its failover build now). The node reports progress in its node.info `failoverBuilds`.
 */
export const deployPrepareBodySchema = z
  .object({
    deploymentId: idSchema,
    srcUrl: gitRemoteSchema.optional(),
    branch: branchSchema.optional(),
    commit: commitSchema.optional(),
    env: envSchema.optional(),
    runtime: runtimeSchema.optional(),
    forget: z.boolean({ error: 'expected a boolean' }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.forget === true) return;
    for (const field of ['srcUrl', 'branch', 'commit'] as const) {
      if (body[field] === undefined) ctx.addIssue({ code: 'custom', message: `expected ${field} (required unless forget is true)`, path: [field], input: undefined });
    }
  });
export type DeployPrepareBody = z.infer<typeof deployPrepareBodySchema>;

export const deployCancelBodySchema = z.object({
  deploymentId: idSchema,
  reason: text(1024).optional(),
});
export type DeployCancelBody = z.infer<typeof deployCancelBodySchema>;

export const deployStopBodySchema = z.object({
  deploymentId: idSchema,
  reason: text(1024).optional(),
});
export type DeployStopBody = z.infer<typeof deployStopBodySchema>;

/**
 * What a `deploy.lifecycle` asks of a deployment its node holds, none of which rebuilds it: stop
 * (keep the image or built folder, run nothing), start (run it again from what was built), or
 * restart (stop, then start, in place). `deploy.stop` is something else: it destroys.
 */
export const LifecycleAction = {
  Stop: 'stop',
  Start: 'start',
  Restart: 'restart',
} as const;
export type LifecycleAction = (typeof LifecycleAction)[keyof typeof LifecycleAction];

export const deployLifecycleBodySchema = z.object({
  deploymentId: idSchema,
  action: oneOf([LifecycleAction.Stop, LifecycleAction.Start, LifecycleAction.Restart]),
  /** The deploy attempt it applies to, echoed in the statuses it causes. */
  attempt: intAtLeast(1).optional(),
  reason: text(1024).optional(),
});
export type DeployLifecycleBody = z.infer<typeof deployLifecycleBodySchema>;

/** How an app last ended on its own (not stopped by Kraken). */
const appExitSchema = z.object({
  /** The exit code; absent when a signal ended it or the runtime could not tell (an adopted process). */
  code: intBetween(-1024, 1024).optional(),
  signal: text(32, { nonEmpty: true }).optional(),
  at: isoTimeSchema,
  /** In words, e.g. "exited with code 1 after 3.0 s". */
  reason: text(512, { nonEmpty: true }),
});
export type AppExit = z.infer<typeof appExitSchema>;

/**
 * The restarts of a running app: the runtime restarts an app that ends on its own, and one that
 * keeps ending is crash-looping. A status rather than a new DeploymentStatus, so an older
 * orchestrator (which strips the field) still reads the status it knows.
 */
const appRestartsSchema = z.object({
  /** Restarts since the app was deployed on this node. */
  count: intAtLeast(0),
  /** It ended since it last ran steadily: it is down or restarting more than it is up. */
  looping: z.boolean({ error: 'expected a boolean' }),
  lastExit: appExitSchema.optional(),
});
export type AppRestarts = z.infer<typeof appRestartsSchema>;

/**
 * Whether a running app still answers HTTP on its port (any answer counts, as in the deploy's
 * ready check). An app that stops answering without exiting gets no requests from the ingress
 * until it answers again. Optional, like `restarts`: an older orchestrator strips it.
 */
const appReadinessSchema = z.object({
  ready: z.boolean({ error: 'expected a boolean' }),
  /** When it last changed between ready and not. */
  since: isoTimeSchema,
  /** Why it counts as not ready, e.g. "not answering on port 20001 for 15 s (3 checks)". */
  reason: text(512, { nonEmpty: true }).optional(),
});
export type AppReadiness = z.infer<typeof appReadinessSchema>;

export const deployStatusBodySchema = z.object({
  deploymentId: idSchema,
  status: oneOf(statusValues),
  /** Human-readable detail; for `Errored`, the reason. */
  message: text(LogLimits.maxLineBytes).optional(),
  /**
   * For `Errored`: the failure's code (an ErrorCode of @kraken/common, e.g. CONFLICT for a taken
   * host port, then `port` names it), so the orchestrator can react instead of giving up.
   */
  errorCode: text(40, { nonEmpty: true }).optional(),
  /** When the status changed on the worker (the envelope `at` is when it was sent). */
  at: isoTimeSchema,
  /**
   * The deploy.request attempt this status belongs to (absent when the worker does not know, e.g.
   * for a deployment it adopted after a restart): a status of an older attempt is stale.
   */
  attempt: intAtLeast(1).optional(),
  commit: commitSchema.optional(),
  port: portSchema.optional(),
  url: httpUrlSchema.optional(),
  nodeId: idSchema,
  /** With Running, and with the Errored that ends a crash loop; absent from workers older than it. */
  restarts: appRestartsSchema.optional(),
  /** With Running, once the worker's ready watch has an opinion; absent from workers older than it. */
  readiness: appReadinessSchema.optional(),
});
export type DeployStatusBody = z.infer<typeof deployStatusBodySchema>;

export const deployStatsBodySchema = z.object({
  deploymentId: idSchema,
  /** Of one core: 250 means two and a half cores busy. */
  cpuPercent: numberAtLeast(0),
  memMb: numberAtLeast(0),
  maxMemMb: numberAtLeast(0),
  imageSizeMb: numberAtLeast(0).optional(),
  net: z.object({ rxBytes: intAtLeast(0), txBytes: intAtLeast(0) }).optional(),
  at: isoTimeSchema,
});
export type DeployStatsBody = z.infer<typeof deployStatsBodySchema>;

const logLineSchema = z.object({
  stream: oneOf([LogStream.Stdout, LogStream.Stderr, LogStream.Build, LogStream.Test, LogStream.System]),
  text: textBytes(LogLimits.maxLineBytes),
  at: isoTimeSchema,
});
export type LogLine = z.infer<typeof logLineSchema>;

const LINES_RULE = `expected 1..${LogLimits.maxLinesPerBatch} lines`;
export const deployLogBodySchema = z.object({
  deploymentId: idSchema,
  /** Per deployment, +1 per batch: a consumer that sees a jump knows batches were lost. */
  seq: intAtLeast(0),
  lines: z
    .array(logLineSchema, { error: LINES_RULE })
    .min(1, { error: LINES_RULE })
    .max(LogLimits.maxLinesPerBatch, { error: LINES_RULE }),
  /** Lines the sender dropped (backpressure, size) since the previous batch. */
  dropped: intAtLeast(0).optional(),
});
export type DeployLogBody = z.infer<typeof deployLogBodySchema>;

/** A value SQLite takes as a parameter, or an object of named ones. */
const sqlValue = z.union([z.string(), z.number(), z.null()]);
const sqlParams = z.array(z.union([sqlValue, z.record(z.string(), sqlValue)])).max(64, { error: 'expected at most 64 parameters' });

/**
 * One committed write of the leader's store, for standbys that keep a live copy: the statements it
 * ran, in order. `sql` lists each distinct statement once; `runs` refer to it by index.
 */
export const stateChangeBodySchema = z.object({
  /** The store's changeset number: +1 per commit, without gaps. */
  seq: intAtLeast(1),
  sql: z.array(textBytes(8 * 1024)).min(1).max(64, { error: 'expected at most 64 distinct statements' }),
  runs: z.array(z.tuple([intAtLeast(0), sqlParams])).min(1).max(LogLimits.maxLinesPerBatch + 64),
});
export type StateChangeBody = z.infer<typeof stateChangeBodySchema>;

/**
 * Sent every half second by each agent that may lead, to the leadership queue: only its one active
 * consumer hears them, and hearing them is how it knows it is the one.
 */
export const leaseTickBodySchema = z.object({
  nodeId: idSchema,
});
export type LeaseTickBody = z.infer<typeof leaseTickBodySchema>;

/**
 * Sent by a new leader, before any command, to every node's queue: its envelope's epoch fences
 * the former leader, whose late or resent commands the node then refuses.
 */
export const leaderElectedBodySchema = z.object({
  leaderId: idSchema,
});
export type LeaderElectedBody = z.infer<typeof leaderElectedBodySchema>;

/**
 * Sent every second by the acting orchestrator on a topic every agent listens to: where its API
 * answers, so an agent that does not lead forwards API and UI requests there. The envelope's epoch
 * tells a newer leader from a former one.
 */
const BROKER_ENDPOINT_RULE = 'expected host:port (e.g. 192.168.1.20:5673)';

export const leaderInfoBodySchema = z.object({
  nodeId: idSchema,
  /** The leader's API as other machines reach it, e.g. http://192.168.1.20:4000. */
  apiUrl: httpUrlSchema,
  /**
   * The running nodes of the agents' RabbitMQ cluster (`host:port`): an agent that joined before
   * some of them keeps its fallbacks current, so it reconnects when the node it talks to dies.
   */
  brokerEndpoints: z
    .array(z.string({ error: BROKER_ENDPOINT_RULE }).max(300, { error: BROKER_ENDPOINT_RULE }).regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, { error: BROKER_ENDPOINT_RULE }))
    .max(32, { error: 'expected at most 32 broker endpoints' })
    .optional(),
  /**
   * Whether anyone looks at the cluster through the API (a UI or subscription open, a recent
   * request): workers then report app stats at their fast interval, else at their slow one, so an
   * unwatched cluster of small machines spends next to nothing on stats. Absent: as if watched.
   */
  watched: z.boolean().optional(),
  /**
   * The UDP port on the API's host where the leader takes pulses (signed datagrams each agent sends
   * beside its heartbeats, so a stalled broker link does not make a reachable node look dead).
   * Absent: it takes none (an older leader, or its port could not be bound).
   */
  pulsePort: z.number().int().min(1).max(65535).optional(),
});
export type LeaderInfoBody = z.infer<typeof leaderInfoBodySchema>;

/** Deployments one ingress route table may hold (a message stays far below the size limit). */
export const ROUTES_MAX = 2_000;

const ingressRouteSchema = z.object({
  /** The Host name the ingress answers for (its first label): the deployment's name. */
  name: deploymentNameSchema,
  deploymentId: idSchema,
  status: oneOf(statusValues),
  /** Where the app answers now (`http://<node address>:<host port>`); absent while no instance runs or answers. */
  upstream: httpUrlSchema.optional(),
  /**
   * Set while its instance runs but does not answer its node's ready checks (then there is no
   * upstream): the node's words, e.g. "not answering on port 20001 for 15 s (3 checks)".
   */
  notAnswering: text(512, { nonEmpty: true }).optional(),
});
export type IngressRoute = z.infer<typeof ingressRouteSchema>;

/**
 * Sent by the acting orchestrator on a topic every agent listens to: the whole route table of the
 * agents' ingresses, whenever a deployment's name, status or address changes and every few seconds
 * (an agent that starts later gets one soon). The envelope's epoch and `seq` order the tables.
 */
export const ingressRoutesBodySchema = z.object({
  /** +1 per table within one leader term. */
  seq: intAtLeast(0),
  routes: z.array(ingressRouteSchema).max(ROUTES_MAX, { error: `expected at most ${String(ROUTES_MAX)} routes` }),
});
export type IngressRoutesBody = z.infer<typeof ingressRoutesBodySchema>;
