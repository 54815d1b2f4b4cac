import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { LifecycleAction, Runtime } from '@kraken/messages';
import {
  DEPLOYMENT_NAME_PATTERN,
  DEPLOYMENT_NAME_RULE,
  DeploymentStatus as Status,
  MessageType,
  createMessage,
  isTerminalStatus,
  validateBody,
} from '@kraken/messages';
import { newDeploymentId, repositorySlug, uniqueName } from '../deployment-id.js';
import type { NodeCommands } from '../dispatch/node-commands.js';
import type { WorkSender } from '../dispatch/work-sender.js';
import type { EmitEvent } from '../events.js';
import type { LeaderTerm } from '../leadership/leader-term.js';
import type { Releases } from '../releases/releases.js';
import { ReleaseTrigger } from '../releases/releases.js';
import { planRollback } from '../releases/rollback.js';
import type { EnvChange } from '../settings/env-change.js';
import { planEnvChange } from '../settings/env-change.js';
import { destructionStatuses } from '../status-phases.js';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DeploymentRecord } from '../store/records.js';
import { NodeState } from '../store/records.js';
import { assertSourceKnown } from '../store/adopted.js';
import { planLifecycle } from './controls.js';
import { assertRemovable } from './removal.js';

export interface CreateDeploymentInput {
  srcUrl: string;
  /** @default 'main' */
  branch?: string;
  env?: Record<string, string>;
  /** Redeploy on new commits of the branch. @default false */
  watch?: boolean;
  /** @default docker when a live node has it, else process when a live node has that */
  runtime?: Runtime;
  /** RAM the app needs; scheduling reserves it and the worker enforces it. */
  memoryMb?: number;
  /**
   * The name the ingress answers for; taken already is a Conflict. @default the repository's name,
   * with `-2`, `-3`... when a live deployment has it
   */
  name?: string;
}

export interface DeploymentCommandsOptions {
  store: OrchestratorStore;
  logger: Logger;
  term: Pick<LeaderTerm, 'requireLeads' | 'exclusive' | 'meta'>;
  commands: Pick<NodeCommands, 'send'>;
  work: Pick<WorkSender, 'placeAndRequest' | 'sendRequest' | 'changeStatus'>;
  releases: Pick<Releases, 'startRelease' | 'list'>;
  emit: EmitEvent;
}

/**
 * What users ask of deployments (through the API, the agent and the branch watcher): each is
 * checked against the deployment's state, stored, and sent to its node, one at a time.
 */
export class DeploymentCommands {
  constructor(private readonly deps: DeploymentCommandsOptions) {}

  async create(input: CreateDeploymentInput): Promise<DeploymentRecord> {
    const { store, term, logger } = this.deps;
    term.requireLeads('create a deployment');
    const id = newDeploymentId(input.srcUrl);
    const branch = input.branch ?? 'main';
    if (input.name !== undefined && !DEPLOYMENT_NAME_PATTERN.test(input.name)) {
      throw new KrakenError(ErrorCode.InvalidInput, `name: ${DEPLOYMENT_NAME_RULE}, got ${JSON.stringify(input.name.slice(0, 80))}`, {
        details: { field: 'name' },
      });
    }
    if (input.memoryMb !== undefined && (!Number.isInteger(input.memoryMb) || input.memoryMb < 1)) {
      throw new KrakenError(ErrorCode.InvalidInput, `memoryMb: expected a positive integer, got ${String(input.memoryMb)}`, {
        details: { field: 'memoryMb' },
      });
    }
    // the same schema the worker will check, so a request that cannot be sent is never stored
    const validation = validateBody(MessageType.DeployRequest, {
      deploymentId: id,
      srcUrl: input.srcUrl,
      branch,
      ...(input.env === undefined ? {} : { env: input.env }),
      ...(input.runtime === undefined ? {} : { runtime: input.runtime }),
    });
    if (!validation.ok) {
      throw new KrakenError(ErrorCode.InvalidInput, `cannot create deployment: ${validation.message}`, {
        details: { field: validation.field },
      });
    }
    return await term.exclusive(async () => {
      const created = store.deployments.create({
        id,
        srcUrl: input.srcUrl,
        branch,
        env: input.env ?? {},
        watch: input.watch ?? false,
        runtime: input.runtime ?? this.defaultRuntime(),
        memoryMb: input.memoryMb ?? null,
        // chosen inside the exclusive section, so two deploys of one repository get two names
        name: input.name ?? uniqueName(repositorySlug(input.srcUrl), (name) => store.deployments.named(name) !== undefined),
      });
      this.deps.releases.startRelease(id, null, ReleaseTrigger.Created);
      this.deps.emit('deploymentChanged', created);
      logger.info('deployment requested', { deploymentId: id, srcUrl: input.srcUrl, branch });
      return this.deps.work.placeAndRequest(created, { attempt: 1 });
    });
  }

  /**
   * The runtime of a deployment that names none: Docker when any live node has it (apps are
   * isolated and limited there), else supervised processes when that is all the cluster has. With
   * no node alive (a new leader has heard no heartbeat yet, the nodes are suspect) the nodes the
   * cluster knows say what it has: a process-only cluster must not get a Docker app it can never run.
   */
  private defaultRuntime(): Runtime {
    const known = this.deps.store.nodes.list();
    const alive = known.filter((node) => node.state === NodeState.Alive);
    const judged = alive.length > 0 ? alive : known;
    if (judged.some((node) => node.info.runtimes.includes('docker'))) return 'docker';
    if (judged.some((node) => node.info.runtimes.includes('process'))) return 'process';
    return 'docker';
  }

  cancel(id: string, reason: string): Promise<DeploymentRecord> {
    const { store, term, work } = this.deps;
    return term.exclusive(async () => {
      term.requireLeads('cancel a deployment');
      const deployment = store.deployments.require(id);
      if (isTerminalStatus(deployment.status)) return deployment;
      const node = deployment.nodeId === null ? undefined : store.nodes.get(deployment.nodeId);
      if (deployment.nodeId === null || node === undefined || node.state === NodeState.Dead) {
        if (deployment.nodeId !== null) store.pendingStops.add({ deploymentId: id, nodeId: deployment.nodeId, reason });
        return work.changeStatus(id, Status.Destroyed, `${reason}; it was not running on a live node`);
      }
      const changed = work.changeStatus(id, Status.DestructionRequested, reason);
      await this.deps.commands.send(
        deployment.nodeId,
        createMessage(MessageType.DeployCancel, { deploymentId: id, reason }, term.meta()),
      );
      return changed;
    });
  }

  remove(id: string): Promise<DeploymentRecord> {
    const { store, term } = this.deps;
    return term.exclusive(() => {
      term.requireLeads('remove a deployment');
      const deployment = store.deployments.require(id);
      if (deployment.removedAt !== null) return deployment;
      assertRemovable(deployment);
      const removed = store.deployments.markRemoved(id);
      this.deps.emit('deploymentChanged', removed);
      this.deps.logger.info('deployment removed', { deploymentId: id, status: removed.status });
      return removed;
    });
  }

  /** Stops, starts or restarts a deployment in place (rules in lifecycle/controls.ts). */
  control(id: string, action: LifecycleAction, reason: string): Promise<DeploymentRecord> {
    const { store, term } = this.deps;
    return term.exclusive(async () => {
      term.requireLeads(`${action} a deployment`, id);
      const deployment = store.deployments.require(id);
      const plan = planLifecycle(deployment, action, deployment.nodeId === null ? undefined : store.nodes.get(deployment.nodeId));
      const current = plan.status === undefined ? deployment : this.deps.work.changeStatus(id, plan.status.status, plan.status.message);
      await this.deps.commands.send(
        plan.nodeId,
        createMessage(MessageType.DeployLifecycle, { deploymentId: id, action, attempt: current.attempt, reason }, term.meta()),
      );
      this.deps.logger.info(`deployment ${action} requested`, { deploymentId: id, nodeId: plan.nodeId });
      return current;
    });
  }

  redeploy(id: string, trigger: string): Promise<DeploymentRecord> {
    const { store, term, work } = this.deps;
    return term.exclusive(async () => {
      term.requireLeads('redeploy');
      const deployment = store.deployments.require(id);
      if (deployment.removedAt !== null) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${id} was removed; deploy its repository again instead`, { deploymentId: id });
      }
      if (destructionStatuses.has(deployment.status) || deployment.status === Status.Destroyed) {
        throw new KrakenError(ErrorCode.Conflict, `deployment ${id} is ${deployment.status}; it cannot be redeployed`, {
          deploymentId: id,
        });
      }
      assertSourceKnown(deployment, 'be redeployed');
      this.deps.releases.startRelease(id, null, trigger);
      const node = deployment.nodeId === null ? undefined : store.nodes.get(deployment.nodeId);
      if (node?.state === NodeState.Alive && node.info.runtimes.includes(deployment.runtime)) {
        const updated = work.changeStatus(id, Status.UpdateRequested, 'redeploy requested', {
          attempt: deployment.attempt + 1,
          commit: null,
        });
        await work.sendRequest(updated);
        return updated;
      }
      return work.placeAndRequest({ ...deployment, commit: null }, { attempt: deployment.attempt + 1 });
    });
  }

  rollback(id: string, commit?: string): Promise<DeploymentRecord> {
    const { store, term, releases } = this.deps;
    return term.exclusive(async () => {
      term.requireLeads('roll back', id);
      const deployment = store.deployments.require(id);
      const plan = planRollback(deployment, releases.list(id), commit);
      releases.startRelease(id, plan.commit, plan.trigger);
      return this.restartFromBuild({ ...deployment, commit: plan.commit }, plan.reason);
    });
  }

  changeEnv(id: string, change: EnvChange): Promise<DeploymentRecord> {
    const { store, term } = this.deps;
    return term.exclusive(async () => {
      term.requireLeads('change settings', id);
      const deployment = store.deployments.require(id);
      const planned = planEnvChange(deployment, change);
      // names only: the values are secrets
      this.deps.logger.info('settings changed', { deploymentId: id, change: planned.summary, effect: planned.effect });
      if (planned.effect === 'restart') {
        // a restart with other settings is a release of its own: its log and result are apart from the build's
        this.deps.releases.startRelease(id, deployment.commit, `${ReleaseTrigger.Settings}: ${planned.summary}`);
        return this.restartFromBuild(deployment, `restarting with changed settings: ${planned.summary}`, { env: planned.env });
      }
      const stored = store.deployments.setEnv(id, planned.env);
      this.deps.emit('deploymentChanged', stored);
      return stored;
    });
  }

  /**
   * The one place a running deployment restarts without a rebuild: its commit (or, for a rollback,
   * the earlier one in `deployment.commit`) is sent with `replace`, and the node's deployer starts it
   * from the build it has or kept. `reason` becomes the status message and so the history's record
   * of why. A node that cannot take it any more gets it placed afresh (which builds there).
   */
  private async restartFromBuild(deployment: DeploymentRecord, reason: string, patch: { env?: Record<string, string> } = {}): Promise<DeploymentRecord> {
    const { store, work } = this.deps;
    const node = deployment.nodeId === null ? undefined : store.nodes.get(deployment.nodeId);
    if (node?.state === NodeState.Alive && node.info.runtimes.includes(deployment.runtime)) {
      const updated = work.changeStatus(deployment.id, Status.UpdateRequested, reason, { ...patch, attempt: deployment.attempt + 1, commit: deployment.commit });
      await work.sendRequest(updated);
      return updated;
    }
    const stored = patch.env === undefined ? deployment : store.deployments.setEnv(deployment.id, patch.env);
    return work.placeAndRequest(stored, { attempt: deployment.attempt + 1, why: reason });
  }

  setWatch(id: string, watch: boolean): Promise<DeploymentRecord> {
    const { store, term } = this.deps;
    return term.exclusive(() => {
      term.requireLeads('change branch watching');
      const deployment = store.deployments.require(id);
      if (deployment.watch === watch) return deployment;
      const changed = store.deployments.setWatch(id, watch);
      this.deps.emit('deploymentChanged', changed);
      this.deps.logger.info(watch ? 'branch watching turned on' : 'branch watching turned off', { deploymentId: id, branch: changed.branch });
      return changed;
    });
  }
}
