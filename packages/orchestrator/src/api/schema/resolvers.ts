import { ErrorCode, KrakenError, redactCredentials } from '@kraken/common';
import type { StoredLogLine } from '../../store/records.js';
import type { DeploymentRecord, NodeRecord } from '../../store/records.js';
import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { ApiContext } from '../context.js';
import { LifecycleResolver } from './lifecycle-resolver.js';
import { NotificationResolver } from './notification-resolver.js';
import { checkId, checkIntRange, envFromInput } from '../input.js';
import { deploymentViewOf, logLineView, logPageView, MAX_LOG_PAGE, nodeSampleView, nodeView, statsSampleView } from '../views.js';
import { ReleaseTrigger } from '../../releases/releases.js';
import { branchMoved } from '../../watch/branch-moved.js';
import type { Shape } from './types.js';
import { Deployment, EnvVarInput, FailoverBuild, LogLine, LogPage, Node, NodeSample, Platform, PlatformService, StatsSample } from './types.js';
import { assertSourceKnown } from '../../store/adopted.js';


function requireNode(context: ApiContext, id: string): NodeRecord {
  const node = context.store.nodes.get(checkId('nodeId', id));
  if (node === undefined) throw new KrakenError(ErrorCode.NotFound, `no node with id ${id}`, { nodeId: id });
  return node;
}

function requireDeployment(context: ApiContext, field: string, id: string): DeploymentRecord {
  return context.store.deployments.require(checkId(field, id));
}

@Resolver(() => Deployment)
class DeploymentResolver {
  @Query(() => Deployment, { description: 'One deployment (a removed one too, until its retention ends); NOT_FOUND for an unknown id.' })
  getDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Shape<Deployment> {
    return deploymentViewOf(context.store, requireDeployment(context, 'deploymentId', deploymentId));
  }

  @Query(() => [Deployment], { description: 'Every deployment not removed, oldest first.' })
  getDeployments(@Ctx() context: ApiContext): Shape<Deployment>[] {
    return context.store.deployments.list().map((record) => deploymentViewOf(context.store, record));
  }

  @Query(() => [StatsSample], {
    description:
      "A deployment's recent CPU and memory reports, oldest first: the last ones this orchestrator received since it started (kept in memory). NOT_FOUND for an unknown id.",
  })
  statsHistory(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Shape<StatsSample>[] {
    return context.orchestrator.statsSamples(checkId('deploymentId', deploymentId)).map(statsSampleView);
  }

  @FieldResolver(() => FailoverBuild, {
    nullable: true,
    description:
      'Where its failover build stands (see FailoverBuild); null unless it runs, or while no other node can run it. Known to the leader from heartbeats (in memory), so a new leader shows it within a heartbeat or two.',
  })
  failover(@Root() deployment: Shape<Deployment>, @Ctx() context: ApiContext): Shape<FailoverBuild> | null {
    const view = context.orchestrator.failover(deployment.id);
    return view === undefined ? null : { node: view.nodeId, commit: view.commit, state: view.state, message: view.message === undefined ? null : redactCredentials(view.message) };
  }

  @Mutation(() => String, { description: 'Requests a deployment of a branch of a git repository; returns its id.' })
  async createDeployment(
    @Arg('deploymentUrl', () => String) deploymentUrl: string,
    @Arg('gitBranch', () => String, { defaultValue: 'main' }) gitBranch: string,
    @Arg('env', () => [EnvVarInput], { nullable: true }) env: EnvVarInput[] | null | undefined,
    @Arg('watch', () => Boolean, { nullable: true }) watch: boolean | null | undefined,
    @Arg('name', () => String, { nullable: true, description: 'The name the ingress answers for; default: the repository\'s name, made unique.' })
    name: string | null | undefined,
    @Ctx() context: ApiContext,
  ): Promise<string> {
    const envRecord = envFromInput(env);
    const created = await context.orchestrator.createDeployment({
      srcUrl: deploymentUrl,
      branch: gitBranch,
      ...(envRecord === undefined ? {} : { env: envRecord }),
      ...(watch === null || watch === undefined ? {} : { watch }),
      ...(name === null || name === undefined ? {} : { name }),
    });
    return created.id;
  }

  @Mutation(() => String, { description: 'Destroys a deployment; returns its id.' })
  async cancelDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<string> {
    requireDeployment(context, 'deploymentId', deploymentId);
    const cancelled = await context.orchestrator.cancelDeployment(deploymentId);
    return cancelled.id;
  }

  @Mutation(() => Deployment, {
    description:
      'Removes a DESTROYED or ERRORED deployment from the lists and frees its name (CONFLICT for any other status: cancel it first; NOT_FOUND for an unknown id). ' +
      'It and its log stay readable by id until the retention ends; returns it, with removedAt set.',
  })
  async removeDeployment(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<Shape<Deployment>> {
    requireDeployment(context, 'deploymentId', deploymentId);
    return deploymentViewOf(context.store, await context.orchestrator.removeDeployment(deploymentId));
  }

  @Mutation(() => Boolean, { description: 'Redeploys if the branch head moved since the running commit (git ls-remote).' })
  async pollRedeploy(@Arg('deploymentId', () => String) deploymentId: string, @Ctx() context: ApiContext): Promise<boolean> {
    const deployment = requireDeployment(context, 'deploymentId', deploymentId);
    assertSourceKnown(deployment, 'be redeployed');
    const head = await context.resolveBranchHead(deployment.srcUrl, deployment.branch);
    if (head === undefined) {
      throw new KrakenError(ErrorCode.NotFound, `branch ${deployment.branch} does not exist in ${deployment.srcUrl}`, {
        deploymentId,
      });
    }
    if (!branchMoved(deployment.commit, head)) return false;
    await context.orchestrator.redeploy(deploymentId, ReleaseTrigger.Poll);
    context.logger.info('branch head moved; redeploying', { deploymentId, from: deployment.commit, to: head });
    return true;
  }

  @Mutation(() => Deployment, { description: 'Turns redeploying on new commits of its branch on or off; returns the deployment.' })
  async setWatch(
    @Arg('deploymentId', () => String) deploymentId: string,
    @Arg('watch', () => Boolean) watch: boolean,
    @Ctx() context: ApiContext,
  ): Promise<Shape<Deployment>> {
    requireDeployment(context, 'deploymentId', deploymentId);
    return deploymentViewOf(context.store, await context.orchestrator.setWatch(deploymentId, watch));
  }

  @Mutation(() => Deployment, { description: 'Deploys the branch head again, whether or not it moved.' })
  async redeploy(
    @Arg('deploymentId', () => String) deploymentId: string,
    @Ctx() context: ApiContext,
  ): Promise<Shape<Deployment>> {
    requireDeployment(context, 'deploymentId', deploymentId);
    return deploymentViewOf(context.store, await context.orchestrator.redeploy(deploymentId));
  }

  @Mutation(() => Deployment, {
    description:
      "Changes a deployment's environment: `set` adds or changes variables, `unset` removes them (INVALID_INPUT for an unknown name). " +
      'A RUNNING deployment restarts with the new values from the build it runs (no rebuild); an ERRORED one keeps them for its next redeploy; ' +
      'any other status is a CONFLICT. Values are write-only: the result shows them as "***".',
  })
  async setEnv(
    @Arg('deploymentId', () => String) deploymentId: string,
    @Arg('set', () => [EnvVarInput], { nullable: true }) set: EnvVarInput[] | null | undefined,
    @Arg('unset', () => [String], { nullable: true }) unset: string[] | null | undefined,
    @Ctx() context: ApiContext,
  ): Promise<Shape<Deployment>> {
    requireDeployment(context, 'deploymentId', deploymentId);
    const change = { set: envFromInput(set, 'set') ?? {}, unset: unset ?? [] };
    return deploymentViewOf(context.store, await context.orchestrator.changeEnv(deploymentId, change));
  }

  @Subscription(() => Deployment, {
    description: 'Every stored change of any deployment (status, placement, stats).',
    subscribe: ({ context }) => (context as ApiContext).pubSub.subscribe('deploymentChanged'),
  })
  deploymentChanged(@Root() record: DeploymentRecord, @Ctx() context: ApiContext): Shape<Deployment> {
    return deploymentViewOf(context.store, record);
  }
}

function detectedNodeView(context: ApiContext, record: NodeRecord): Shape<Node> {
  return nodeView(record, context.orchestrator.nodeDetection(record.id));
}

@Resolver(() => Node)
class NodeResolver {
  @Query(() => Node, { description: 'One node; NOT_FOUND for an unknown id.' })
  getNode(@Arg('nodeId', () => String) nodeId: string, @Ctx() context: ApiContext): Shape<Node> {
    return detectedNodeView(context, requireNode(context, nodeId));
  }

  @Query(() => [Node])
  getNodes(@Ctx() context: ApiContext): Shape<Node>[] {
    return context.store.nodes.list().map((record) => detectedNodeView(context, record));
  }

  @Subscription(() => Node, {
    description: 'Every heartbeat and liveness change of any node.',
    subscribe: ({ context }) => (context as ApiContext).pubSub.subscribe('nodeChanged'),
  })
  nodeChanged(@Root() record: NodeRecord, @Ctx() context: ApiContext): Shape<Node> {
    return detectedNodeView(context, record);
  }

  @FieldResolver(() => [NodeSample], {
    description:
      'Its recent CPU, memory and disk, oldest first: at most one sample per interval (10 s by default) for the last hour, as this orchestrator received them since it started (kept in memory).',
  })
  history(@Root() node: Shape<Node>, @Ctx() context: ApiContext): Shape<NodeSample>[] {
    return context.orchestrator.nodeSamples(node.id).map(nodeSampleView);
  }
}

@Resolver()
class PlatformResolver {
  @Query(() => Platform)
  getPlatform(@Ctx() context: ApiContext): Shape<Platform> {
    return {
      deployments: context.store.deployments.list().map((record) => deploymentViewOf(context.store, record)),
      orchestrator: context.orchestrator.nodeId,
      epoch: context.orchestrator.epoch,
      nodes: context.store.nodes.list().map((record) => detectedNodeView(context, record)),
    };
  }

  @Query(() => [PlatformService])
  getPlatformServices(@Ctx() context: ApiContext): Shape<PlatformService>[] {
    return [
      {
        name: 'orchestrator',
        status: 'up',
        detail: `node ${context.orchestrator.nodeId}, epoch ${context.orchestrator.epoch}`,
      },
      { name: 'store', status: 'up', detail: `${context.store.file} (schema ${context.store.schemaVersion})` },
      ...context.platformServices(),
    ];
  }
}

@Resolver()
class LogResolver {
  @Query(() => [String], { description: 'Ids of the deployments that have log lines.' })
  getAvailableLogs(@Ctx() context: ApiContext): string[] {
    return context.store.deployments
      .list()
      .filter((d) => context.store.logs.read(d.id, { limit: 1 }).length > 0)
      .map((d) => d.id);
  }

  @Query(() => LogPage, { description: 'Lines of a deployment log with seq > after, oldest first; with `release`, only that release\'s lines.' })
  logs(
    @Arg('deploymentId', () => String) deploymentId: string,
    @Arg('after', () => Int, { defaultValue: 0 }) after: number,
    @Arg('limit', () => Int, { defaultValue: 500 }) limit: number,
    @Arg('release', () => Int, { nullable: true, description: 'A release number (NOT_FOUND when the deployment has no such release).' })
    release: number | null | undefined,
    @Ctx() context: ApiContext,
  ): Shape<LogPage> {
    requireDeployment(context, 'deploymentId', deploymentId);
    checkIntRange('after', after, 0, Number.MAX_SAFE_INTEGER);
    checkIntRange('limit', limit, 1, MAX_LOG_PAGE);
    if (release === null || release === undefined) return logPageView(context.store, deploymentId, { after, limit });
    context.orchestrator.releases.require(deploymentId, release);
    return logPageView(context.store, deploymentId, { after, limit, release });
  }

  @Mutation(() => Boolean, { description: "Deletes a deployment's log lines (logId = the deployment id)." })
  deleteLog(@Arg('logId', () => String) logId: string, @Ctx() context: ApiContext): boolean {
    requireDeployment(context, 'logId', logId);
    context.store.logs.delete(logId);
    return true;
  }

  @Subscription(() => [LogLine], {
    description: 'Log lines of one deployment as they are stored, one batch per event.',
    subscribe: ({ args, context }) => {
      const deploymentId = checkId('deploymentId', (args as { deploymentId: string }).deploymentId);
      (context as ApiContext).store.deployments.require(deploymentId);
      return (context as ApiContext).pubSub.subscribe('logLines', deploymentId);
    },
  })
  logLines(@Arg('deploymentId', () => String) _deploymentId: string, @Root() lines: StoredLogLine[]): Shape<LogLine>[] {
    return lines.map(logLineView);
  }
}

export const resolvers = [DeploymentResolver, LifecycleResolver, NodeResolver, PlatformResolver, LogResolver, NotificationResolver] as const;
