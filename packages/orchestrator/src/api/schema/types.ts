import { Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { DeploymentStatus } from '@kraken/messages';
import { deploymentStatusOrder } from '@kraken/messages';
import { NodeState as NodeStates } from '../../store/records.js';

/**
 * The plain-object form of a GraphQL object class: resolvers return plain objects, and
 * graphql-js only reads their fields.
 */
export type Shape<T> = T extends readonly (infer U)[] ? Shape<U>[] : T extends object ? { [K in keyof T]: Shape<T[K]> } : T;

// Every object type uses `simpleResolvers`: its fields are plain properties of the views, so
// graphql-js reads them directly instead of through type-graphql's per-field middleware wrapper
// (a closure and a call per field: 23,000 of them for getDeployments with 1,000 deployments).

/** `DeploymentRequested` -> `DEPLOYMENT_REQUESTED`: the original Kraken API's enum spelling. */
function statusEnumName(status: DeploymentStatus): string {
  return status.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * GraphQL names -> internal values, in lifecycle order with ERRORED last. Resolvers return the
 * internal @kraken/messages value and graphql-js serialises it to the name.
 */
const ApplicationStatus: Record<string, DeploymentStatus> = Object.fromEntries(
  deploymentStatusOrder.map((status) => [statusEnumName(status), status]),
);
registerEnumType(ApplicationStatus, {
  name: 'ApplicationStatus',
  description: 'Where a deployment is in its life, in lifecycle order; any status may go to ERRORED.',
});

const NodeStateEnum = { ALIVE: NodeStates.Alive, SUSPECT: NodeStates.Suspect, DEAD: NodeStates.Dead } as const;
registerEnumType(NodeStateEnum, {
  name: 'NodeState',
  description: 'ALIVE takes work; SUSPECT missed heartbeats and gets no new work; DEAD had its apps moved away.',
});

@ObjectType({ description: 'One status a deployment went through.', simpleResolvers: true })
export class StatusHistoryItem {
  @Field(() => ApplicationStatus)
  status!: DeploymentStatus;

  @Field(() => Float, { description: 'When, in Unix seconds (with milliseconds).' })
  time!: number;

  @Field(() => String, { nullable: true, description: 'Detail, such as the reason for ERRORED.' })
  message!: string | null;

  @Field(() => String, { nullable: true, description: 'The node that reported it, or the orchestrator.' })
  node!: string | null;
}

@ObjectType({ description: 'An environment variable of a deployment; values are never sent back.', simpleResolvers: true })
export class EnvVar {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'Always "***": values are secrets.' })
  value!: string;
}

@InputType({ description: 'An environment variable for a new deployment.' })
export class EnvVarInput {
  @Field(() => String, { description: 'A POSIX name: letters, digits and _, not starting with a digit.' })
  name!: string;

  @Field(() => String)
  value!: string;
}

@ObjectType({ description: 'How a running app last ended on its own (not stopped by Kraken).', simpleResolvers: true })
export class AppExit {
  @Field(() => Int, { nullable: true, description: 'Its exit code; null when a signal ended it or the runtime could not tell.' })
  code!: number | null;

  @Field(() => String, { nullable: true, description: 'The signal that ended it, when the runtime knows (the process runtime).' })
  signal!: string | null;

  @Field(() => Float, { description: 'When, in Unix seconds (with milliseconds).' })
  time!: number;

  @Field(() => String, { description: 'In words, e.g. "exited with code 1 after 3.0 s".' })
  reason!: string;
}

@ObjectType({
  description:
    "A running deployment's failover build: another node holding a build of its commit, so that when its node is lost the move there is a start, not a clone, build and test.",
  simpleResolvers: true,
})
export class FailoverBuild {
  @Field(() => String, { description: 'The node that holds (or makes) the build.' })
  node!: string;

  @Field(() => String, { description: 'The commit built.' })
  commit!: string;

  @Field(() => String, {
    description: 'asked (the node has not answered yet), building (in the background, at low priority), ready (a move there is a start) or failed.',
  })
  state!: string;

  @Field(() => String, { nullable: true, description: 'Why it failed, for a failed one.' })
  message!: string | null;
}

@ObjectType({ description: 'An application deployed from a git repository.', simpleResolvers: true })
export class Deployment {
  @Field(() => String)
  id!: string;

  @Field(() => String, { description: 'The git remote it is built from.' })
  srcUrl!: string;

  @Field(() => String)
  gitBranch!: string;

  @Field(() => String, { nullable: true })
  version!: string | null;

  @Field(() => String, { nullable: true, description: 'The commit that runs (or is being built).' })
  commit!: string | null;

  @Field(() => String, { nullable: true, description: 'Host port, unique in the cluster.' })
  port!: string | null;

  @Field(() => ApplicationStatus)
  status!: DeploymentStatus;

  @Field(() => String, { nullable: true, description: 'Detail of the latest status (for ERRORED, the reason).' })
  statusMessage!: string | null;

  @Field(() => [StatusHistoryItem], { description: 'Every status it went through, oldest first.' })
  statusHistory!: StatusHistoryItem[];

  @Field(() => String, { nullable: true, description: 'Where its build and test output can be read (REST).' })
  resultsUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'Where the running instance answers now: its node\'s address and host port (changes when it moves).' })
  deploymentUrl!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The name every agent\'s ingress answers for: unique in the cluster, kept across moves and redeploys.',
  })
  name!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The address that stays: http://<name>.local through any agent\'s ingress (add its port when not 80), or any agent with the header "Host: <name>".',
  })
  appUrl!: string | null;

  @Field(() => String, { nullable: true, description: 'Id of the node it is placed on; null while waiting for one.' })
  node!: string | null;

  @Field(() => Int, { nullable: true, description: 'Image size in MB.' })
  size!: number | null;

  @Field(() => Int, { nullable: true })
  memMb!: number | null;

  @Field(() => Int, { nullable: true })
  maxMemMb!: number | null;

  @Field(() => Float, { nullable: true, description: 'CPU use in percent of one core.' })
  cpuUsage!: number | null;

  @Field(() => Float, { nullable: true, description: 'When memMb and cpuUsage were last reported, in Unix seconds; null before the first report.' })
  statsTime!: number | null;

  @Field(() => String, { nullable: true, description: 'Why it runs where it runs.' })
  placementReason!: string | null;

  @Field(() => Boolean, {
    description:
      'RUNNING, but the app keeps ending and its runtime keeps restarting it: it is down more than up. Clears once it runs steadily; ' +
      'after too many failed restarts its node stops it and it goes to ERRORED with the reason.',
  })
  crashLooping!: boolean;

  @Field(() => Int, { description: 'How often the runtime restarted the app since it was deployed on its node (0 when not reported).' })
  restartCount!: number;

  @Field(() => AppExit, { nullable: true, description: 'How the app last ended on its own; null if it never did.' })
  lastExit!: AppExit | null;

  @Field(() => Boolean, {
    description:
      'false while RUNNING but not answering HTTP on its port: its node got no answer to several ready checks in a row, and the ingress ' +
      'sends it nothing (answers 503) until it answers again. true otherwise, also when its node does not check (an app without a port, an older node).',
  })
  ready!: boolean;

  @Field(() => Float, { nullable: true, description: 'Since when it has not answered (its last answer), in Unix seconds; null while ready.' })
  notReadySince!: number | null;

  @Field(() => [EnvVar])
  env!: EnvVar[];

  @Field(() => Boolean, { description: 'Redeployed when its branch gets new commits.' })
  watch!: boolean;

  @Field(() => Float, {
    nullable: true,
    description:
      'When it was removed (removeDeployment), in Unix seconds; null while listed. A removed deployment is left out of getDeployments, ' +
      'but it and its log stay readable by id until the orchestrator\'s retention (7 days by default) ends.',
  })
  removedAt!: number | null;
}

@ObjectType({ description: 'One CPU and memory report of a deployment.', simpleResolvers: true })
export class StatsSample {
  @Field(() => Float, { description: 'When the orchestrator received it, in Unix seconds.' })
  time!: number;

  @Field(() => Float, { description: 'CPU use in percent of one core.' })
  cpuUsage!: number;

  @Field(() => Float, { description: 'Memory in use, in MB.' })
  memMb!: number;

  @Field(() => Float, { description: 'Its memory limit, in MB.' })
  maxMemMb!: number;
}

@ObjectType({ description: "A node's CPU, memory and disk at one heartbeat; at most one per sample interval (10 s by default).", simpleResolvers: true })
export class NodeSample {
  @Field(() => Float, { description: 'When the orchestrator received the heartbeat, in Unix seconds.' })
  at!: number;

  @Field(() => Float, { nullable: true, description: 'Busy share of all its cores since the previous heartbeat, 0..100; null from agents that do not report it.' })
  cpuPercent!: number | null;

  @Field(() => Float, { description: 'RAM in use, in MB (available memory counts as free).' })
  memUsedMb!: number;

  @Field(() => Float, { description: 'Total RAM, in MB.' })
  memTotalMb!: number;

  @Field(() => Float, { nullable: true, description: "Used space of the filesystem holding the agent's data dir, in MB; null from agents that do not report it." })
  diskUsedMb!: number | null;

  @Field(() => Float, { nullable: true, description: 'Size of that filesystem, in MB.' })
  diskTotalMb!: number | null;
}

@ObjectType({
  description: 'A reading an add-on of the node contributes to its heartbeat (node.info `extensions`), such as `temperature.celsius`.',
  simpleResolvers: true,
})
export class NodeExtension {
  @Field(() => String, { description: 'Dotted name, such as `temperature.celsius`.' })
  key!: string;

  @Field(() => String, { description: 'The value as text: a number in JavaScript notation, a boolean as `true` or `false`.' })
  value!: string;

  @Field(() => String, { description: 'What the value was before it became text, for formatting: `string`, `number` or `boolean`.' })
  type!: string;
}

@ObjectType({ description: 'A machine of the cluster, as its last heartbeat described it.', simpleResolvers: true })
export class Node {
  @Field(() => String)
  id!: string;

  @Field(() => String, { description: 'CPU model.' })
  model!: string;

  @Field(() => String, { nullable: true, description: 'Its first reported address.' })
  addr!: string | null;

  @Field(() => Int, { nullable: true, description: '0 = leader, 1 = standby; null for a plain worker.' })
  orchestrationPriority!: number | null;

  @Field(() => Float, { description: 'Seconds since the machine booted.' })
  uptime!: number;

  @Field(() => Int, { description: 'Free RAM in MB.' })
  ramFree!: number;

  @Field(() => Int, { description: 'Used RAM in MB.' })
  ramUsed!: number;

  @Field(() => Float)
  loadAvg5!: number;

  @Field(() => Float, { nullable: true, description: 'Busy share of all its cores over its last heartbeat interval, 0..100; null from agents that do not report it.' })
  cpuPercent!: number | null;

  @Field(() => Float, { description: 'Total RAM in MB.' })
  ramTotal!: number;

  @Field(() => Float, { nullable: true, description: "Used space of the filesystem holding the agent's data dir, in MB; null from agents that do not report it." })
  diskUsedMb!: number | null;

  @Field(() => Float, { nullable: true, description: 'Size of that filesystem, in MB.' })
  diskTotalMb!: number | null;

  @Field(() => Float, { description: 'Used RAM in percent of the total.' })
  currentRamPercent!: number;

  @Field(() => Float, { description: 'When its last heartbeat arrived, in Unix seconds.' })
  updateTime!: number;

  @Field(() => [String], { description: 'Ids of the deployments it reports running.' })
  deployments!: string[];

  @Field(() => NodeStateEnum)
  state!: string;

  @Field(() => String)
  arch!: string;

  @Field(() => [String], { description: 'How it can run apps: docker, process.' })
  runtimes!: string[];

  @Field(() => String, {
    nullable: true,
    description: "What its runtime enforces on apps, in words: \"container, limits\" (docker); \"runs as the agent's user, no limits\" (process). Null from agents that do not say.",
  })
  isolation!: string | null;

  @Field(() => String)
  hostname!: string;

  @Field(() => [NodeExtension], { description: 'Readings from its add-ons in its last heartbeat, sorted by key; empty when it sends none.' })
  extensions!: NodeExtension[];

  @Field(() => Int, {
    nullable: true,
    description:
      'How long it may stay silent now before it is declared dead and its apps move, in ms: learned from its heartbeat intervals (longer on a lossy link). Null while this leader has not heard from it.',
  })
  noticeLossAfterMs!: number | null;

  @Field(() => Int, { nullable: true, description: 'Mean interval between its heartbeats as this leader has seen them, in ms.' })
  heartbeatIntervalMs!: number | null;

  @Field(() => Int, { nullable: true, description: 'Standard deviation of those intervals, in ms: how irregular its link is.' })
  heartbeatJitterMs!: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long ago its last pulse (a signed UDP datagram its agent sends the leader beside its heartbeats) arrived, in ms. Null when none came: an agent older than pulses, or UDP blocked between it and the leader.',
  })
  lastPulseMsAgo!: number | null;

  @Field(() => Boolean, {
    description:
      'Whether its pulses arrive: then it is reachable and is never declared dead, only suspect, even while its heartbeats over the broker stall (a lossy link) or its broker connection is down. Its apps stay where they are.',
  })
  reachable!: boolean;
}

@ObjectType({ description: 'The whole cluster at a glance.', simpleResolvers: true })
export class Platform {
  @Field(() => [Deployment])
  deployments!: Deployment[];

  @Field(() => String, { description: 'Node id of the orchestrator answering.' })
  orchestrator!: string;

  @Field(() => Int, { description: "The orchestrator's leader term." })
  epoch!: number;

  @Field(() => [Node])
  nodes!: Node[];
}

@ObjectType({ description: 'A part of the platform itself and whether it works.', simpleResolvers: true })
export class PlatformService {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'up or down.' })
  status!: string;

  @Field(() => String)
  detail!: string;
}

@ObjectType({ simpleResolvers: true })
export class LogLine {
  @Field(() => Int, { description: 'Per deployment, +1 per line: pass the last one as `after` to page.' })
  seq!: number;

  @Field(() => String, { description: 'stdout, stderr, build, test or system.' })
  stream!: string;

  @Field(() => String)
  text!: string;

  @Field(() => Float, { description: 'Unix seconds.' })
  time!: number;

  @Field(() => Int, { description: 'The release (1, 2, 3 per deployment) current when the line was stored.' })
  release!: number;
}

@ObjectType({ description: 'A page of a deployment log.', simpleResolvers: true })
export class LogPage {
  @Field(() => [LogLine])
  lines!: LogLine[];

  @Field(() => Int, { description: 'Pass as `after` for the next page (the last seq returned, or `after`).' })
  next!: number;

  @Field(() => Int, { description: 'Lines dropped to keep the per-deployment bound.' })
  dropped!: number;
}
