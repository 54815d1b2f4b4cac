import path from 'node:path';
import type Docker from 'dockerode';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, PreparesInFlight, assertPortFree, deployError, effectiveLimits, guardDeploy, instanceName, stepRunner } from '@kraken/runtime';
import type { AppRunEvent, DeployRequest, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, PrepareRequest, PrepareResult, RunWatcher, StatsSample, StepRunner } from '@kraken/runtime';
import { boundHostPort, envList, removeContainer, runTest, waitReady } from './containers.js';
import type { Limits } from './containers.js';
import { followContainerLogs } from './container-logs.js';
import { createAppContainer } from './app-container.js';
import { pingEngine } from './engine.js';
import { blameEngine, engineStatus, mapEngineError } from './errors.js';
import { Label, buildLabels, imageTag, labelFilters } from './labels.js';
import { compileOptions } from './options.js';
import type { CompiledDeployerOptions, DockerDeployerOptions } from './options.js';
import { watchContainerRuns } from './run-events.js';
import { startContainer, stopContainer } from './lifecycle.js';
import { ContainerUsage } from './stats.js';
import { KeptImages } from './kept-images.js';
import { buildForFailover } from './failover-build.js';
import { validatePrepareRequest, validateRequest } from './request.js';
import { buildFromSource } from './source-build.js';

const DEFAULT_PING_TIMEOUT_MS = 5000;
/** How long a failed deploy waits for the engine's answer before it blames the engine. */
const ENGINE_CHECK_TIMEOUT_MS = 2000;
/** After an unexpected engine error, how long (and how often) a failed deploy asks whether the engine is on its way out. */
const ENGINE_SHUTDOWN_WATCH = { windowMs: 5000, intervalMs: 500 };

/** Runs one deploy step: start/finish progress events around it, its errors tagged with the step. */

/**
 * Source -> image -> tested container on one Docker engine, and the running containers' logs,
 * stats and removal. One instance per node; it keeps no state that a restart would lose: running
 * deployments are found again from their container labels.
 */
export class DockerDeployer {
  private readonly options: CompiledDeployerOptions;
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly inFlight = new Set<string>();
  private readonly usage: ContainerUsage;
  /** The last successful images of each deployment, for a rollback without a build. */
  private readonly kept: KeptImages;
  private readonly prepares = new PreparesInFlight();
  /** What it enforces, for node info: each app in a container of its own, with memory (and, when set, CPU) limits. */
  readonly isolation = { runsAs: 'container', limits: true } as const;

  constructor(options: DockerDeployerOptions) {
    this.options = compileOptions(options);
    this.docker = this.options.docker;
    this.logger = this.options.logger.child({ component: 'docker-deployer', nodeId: this.options.nodeId });
    this.kept = new KeptImages(this.docker, path.join(this.options.workDir, 'kept'), this.logger);
    this.usage = new ContainerUsage(this.docker, this.options.statsIntervalMs);
  }

  /**
   * Resolves when the Docker engine answers; rejects with Unavailable ("the Docker engine at
   * <socket> did not answer ...") when it refuses or stays silent for `timeoutMs`.
   */
  async ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<void> {
    await pingEngine(this.docker, timeoutMs);
  }

  /**
   * Deploys a branch of a repository (its head, or `request.commit`) and resolves when the app
   * answers on its port. A deployment id that already has a running container on this node
   * resolves to that container (`reused`), unless `replace` asks for the new version. Rejects with
   * a KrakenError carrying the deploymentId and `details.step`; nothing of the new version is left,
   * and a replaced version still runs if the failure came before the run step.
   */
  async deploy(request: DeployRequest): Promise<DeployResult> {
    const { deploymentId } = request;
    validateRequest(request);
    const log = this.logger.child({ deploymentId });
    // whatever a stopping engine says on its way out (a 500 of a daemon shutting down, a reset
    // stream), a deploy that failed while it stopped answering failed because of the engine
    return guardDeploy(this.inFlight, deploymentId, log, () =>
      this.deployHere(request, log).catch((error: unknown) => blameEngine(error, deploymentId, () => this.ping(ENGINE_CHECK_TIMEOUT_MS), ENGINE_SHUTDOWN_WATCH)),
    );
  }

  private async deployHere(request: DeployRequest, log: Logger): Promise<DeployResult> {
    const { deploymentId } = request;
    await this.prepares.settled(deploymentId);
    const existing = await this.findContainer(deploymentId, 'deploy');
    let retiring: Deployment | undefined;
    if (existing !== undefined) {
      if (existing.state === 'running' && request.replace !== true) {
        log.info('deployment already running; reusing its container', { containerId: existing.instanceId });
        return { ...existing, reused: true };
      }
      if (existing.state === 'running') {
        // a redeploy: the old app serves until the new one is built and tested
        retiring = existing;
      } else {
        // a stopped leftover (e.g. a crash during an earlier deploy) would block the container name
        await removeContainer(this.docker.getContainer(existing.instanceId));
      }
    }
    // a redeploy keeps the app's host port unless the request names another
    const hostPort = request.hostPort ?? retiring?.hostPort;
    const placed = { ...request, ...(hostPort === undefined ? {} : { hostPort }) };
    const built = retiring === undefined ? undefined : await this.sameBuild(retiring, placed);
    if (retiring !== undefined && built !== undefined) {
      log.info('restarting from the image of this commit with changed settings; no build, no test', { containerId: retiring.instanceId, commit: retiring.commit, image: built.image });
      const step = stepRunner(deploymentId, request.onProgress, log);
      const result = await this.testAndStart({ request: placed, manifest: built.manifest, commit: retiring.commit, image: built.image, step, log, retiring, skipTest: true });
      return { ...result, reused: false, buildReused: true, ...(request.fromKept === true ? { fromKept: true } : {}) };
    }
    const kept = request.fromKept === true && request.commit !== undefined ? await this.kept.find(deploymentId, request.commit) : undefined;
    if (kept !== undefined) {
      // a rollback: the image passed its test when it was built
      log.info('running the kept image of this commit; no clone, build or test', { commit: kept.commit, image: kept.image });
      const step = stepRunner(deploymentId, request.onProgress, log);
      const result = await this.testAndStart({ request: placed, manifest: kept.manifest, commit: kept.commit, image: kept.image, step, log, retiring, skipTest: true });
      await this.keepVersion(result);
      return { ...result, reused: false, fromKept: true };
    }
    if (request.fromKept === true) log.info('no kept image of this commit on this node; building it again', { commit: request.commit });
    const result = await this.deployFresh(placed, log, retiring);
    await this.keepVersion(result);
    return { ...result, reused: false, ...(request.fromKept === true ? { fromKept: false } : {}) };
  }

  /**
   * The image and manifest of the running container when a redeploy asks for the commit it runs on
   * the port it has (a settings change): its image is this deployment's build of that commit.
   * Undefined for anything else, and for containers of older agents (no manifest label): those build.
   */
  private async sameBuild(running: Deployment, request: DeployRequest): Promise<{ image: string; manifest: Manifest } | undefined> {
    if (request.commit === undefined || !running.commit.startsWith(request.commit) || request.hostPort !== running.hostPort) return undefined;
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(running.instanceId).inspect();
    } catch (error) {
      throw mapEngineError(error, { deploymentId: request.deploymentId, step: DeployStep.Run, action: 'inspect the running container' });
    }
    const manifest = info.Config.Labels[Label.Manifest];
    if (manifest === undefined) return undefined;
    // the image id, not the tag: the tag follows this deployment's newest build
    return { image: info.Image, manifest: JSON.parse(manifest) as Manifest };
  }

  /** Keeps the image a successful deploy runs, with the manifest from its container, for a later rollback. */
  private async keepVersion(deployed: Deployment): Promise<void> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(deployed.instanceId).inspect();
    } catch (error) {
      this.logger.warn('could not inspect the new container to keep its version', { deploymentId: deployed.deploymentId, error });
      return;
    }
    const manifest = info.Config.Labels[Label.Manifest];
    if (manifest === undefined) return;
    await this.kept.keep(deployed.deploymentId, info.Image, JSON.parse(manifest) as Manifest, deployed.commit, new Date());
  }

  /**
   * A failover build: builds a commit of a deployment that runs on another node, at the lowest CPU
   * weight, with no test and no run, and keeps the image, so that a deploy of it with `fromKept` and
   * that commit starts it with no clone, build or test. Resolves at once when that commit is kept
   * already. Conflict when this node runs or deploys the deployment (its deploys keep its builds);
   * a KrakenError with `details.step` when the clone or the build fails, leaving nothing behind.
   */
  async prepare(request: PrepareRequest): Promise<PrepareResult> {
    validatePrepareRequest(request);
    const { deploymentId } = request;
    const log = this.logger.child({ deploymentId });
    await this.assertNotHere(deploymentId, 'build it for failover');
    return await this.prepares.run(deploymentId, () => buildForFailover({ docker: this.docker, options: this.options, kept: this.kept, log, now: () => new Date() }, request));
  }

  /**
   * Frees the builds this node keeps of a deployment it does not run (its failover build, when the
   * deployment is destroyed or another node holds it now), after any failover build of it in
   * flight ends. Conflict when this node runs or deploys it: stop() frees those.
   */
  async forgetKept(deploymentId: string): Promise<void> {
    validateRequest({ deploymentId, url: '', branch: '' });
    await this.prepares.settled(deploymentId);
    await this.assertNotHere(deploymentId, 'forget its kept builds');
    await this.kept.forget(deploymentId);
    this.logger.info('kept builds freed', { deploymentId });
  }

  private async assertNotHere(deploymentId: string, action: string): Promise<void> {
    if (this.inFlight.has(deploymentId) || (await this.findContainer(deploymentId, action)) !== undefined) {
      throw deployError(ErrorCode.Conflict, `cannot ${action}: deployment ${deploymentId} runs or is being deployed on this node (${this.options.nodeId})`, { deploymentId });
    }
  }

  /** The commits this node keeps a build of for a deployment, newest first (the running one included). */
  async keptCommits(deploymentId: string): Promise<string[]> {
    return (await this.kept.list(deploymentId)).map((version) => version.commit);
  }

  /** `retiring`: the running container of this deployment that a redeploy replaces just before the run step. */
  private async deployFresh(request: DeployRequest, log: Logger, retiring?: Deployment): Promise<Deployment> {
    const { deploymentId } = request;
    const step = stepRunner(deploymentId, request.onProgress, log);

    // the port a redeploy keeps is held by the app it replaces until the run step; any other must be free now
    if (request.hostPort !== undefined && request.hostPort !== retiring?.hostPort) await assertPortFree(request.hostPort, deploymentId);

    const built = await buildFromSource(this.docker, this.options, log, {
      deploymentId,
      url: request.url,
      branch: request.branch,
      commit: request.commit,
      step,
      tagFor: (manifest) => imageTag(manifest.app.name, deploymentId),
    });
    try {
      return await this.testAndStart({ request, manifest: built.manifest, commit: built.commit, image: built.image, step, log, retiring });
    } finally {
      await built.checkoutRemoved;
    }
  }

  private async testAndStart(input: {
    request: DeployRequest;
    manifest: Manifest;
    commit: string;
    image: string;
    step: StepRunner;
    log: Logger;
    retiring: Deployment | undefined;
    /** A restart from a build that passed its test when it was made. */
    skipTest?: boolean;
  }): Promise<Deployment> {
    const { request, manifest, commit, image, step, log, retiring } = input;
    const { deploymentId } = request;
    const env = { ...(manifest.config.port === undefined ? {} : { PORT: String(manifest.config.port) }), ...manifest.config.env, ...request.env };
    const limits: Limits = effectiveLimits(request.limits, manifest.config.limits, { memoryMb: this.options.defaultMemoryMb, cpus: this.options.defaultCpus });
    const labelInput = { deploymentId, nodeId: this.options.nodeId, appName: manifest.app.name, commit, port: manifest.config.port };
    const testCommand = manifest.config.test;
    if (testCommand !== undefined && input.skipTest !== true) {
      await step(DeployStep.Test, (line) =>
        runTest(this.docker, {
          deploymentId,
          image,
          command: testCommand,
          env: envList(env),
          labels: buildLabels({ ...labelInput, role: 'test' }),
          limits,
          timeoutMs: this.options.testTimeoutMs,
          tailLines: this.options.errorTailLines,
          onLine: (output) => {
            line('test', output.text);
          },
        }),
      );
    }

    // the manifest's port is published, unless the app turns out to listen on another (see waitReady)
    let port = manifest.config.port;
    const start = (published: number | undefined): Promise<Docker.Container> =>
      createAppContainer(this.docker, this.options.nodeId, { deploymentId, image, manifest, env, limits, port: published, labels: { ...buildLabels({ ...labelInput, port: published, role: 'app', endpoint: manifest.app.endpoint, memoryMb: limits.memoryMb }), [Label.Manifest]: JSON.stringify(manifest) }, hostPort: request.hostPort });
    let container = await step(DeployStep.Run, async () => {
      if (retiring !== undefined) {
        // the swap: the name and host port pass to the new version, down while the old one stops and the new one starts
        log.info('replacing the running container with the new version', { containerId: retiring.instanceId, from: retiring.commit, to: commit });
        await this.stopAndRemove(deploymentId, retiring.instanceId);
      }
      return start(port);
    });
    try {
      let info = await container.inspect();
      let hostPort = port === undefined ? undefined : boundHostPort(info, port);
      const ready = { deploymentId, endpoint: manifest.app.endpoint, timeoutMs: this.options.readyTimeoutMs, tailLines: this.options.errorTailLines };
      await step(DeployStep.Ready, async () => {
        const outcome = await waitReady(container, { ...ready, hostPort, ...(port === undefined ? {} : { containerPort: port }) });
        if (outcome.ready) return;
        // apps as people write them listen where their code says: the mapping must target that port
        log.info("the app listens on another port than its manifest's; publishing that one instead", { manifestPort: port, listensOn: outcome.listensOn });
        await removeContainer(container);
        port = outcome.listensOn;
        container = await start(port);
        info = await container.inspect();
        hostPort = boundHostPort(info, port);
        await waitReady(container, { ...ready, hostPort });
      });
      await container.update({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } });
      log.info('deployed', { containerId: info.Id, image, hostPort, commit });
      return { deploymentId, instanceId: info.Id, instanceName: instanceName(deploymentId, this.options.nodeId), artifact: image, appName: manifest.app.name, commit, state: 'running', port, hostPort };
    } catch (error) {
      await removeContainer(container).catch(() => undefined);
      throw mapEngineError(error, { deploymentId, step: DeployStep.Ready, action: 'inspect the app container' });
    }
  }

  /** The deployments this node runs (any state), from container labels. */
  async list(): Promise<Deployment[]> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({ all: true, filters: labelFilters(this.options.nodeId, 'app') });
    } catch (error) {
      throw mapEngineError(error, { deploymentId: '', step: DeployStep.Run, action: 'list containers' });
    }
    return containers.map((info) => describeContainer(info));
  }

  /**
   * For the agent's stop: removes this node's test containers, the test steps of deploys in flight
   * (their deploys then fail, and the orchestrator sends them again), so no test outlives the agent.
   * Apps keep running for the next start to take over; an image build in progress is the engine's
   * and ends on its own. Never throws: an engine that does not answer has nothing to clean up here.
   */
  async close(): Promise<void> {
    try {
      const tests = await this.docker.listContainers({ all: true, filters: labelFilters(this.options.nodeId, 'test') });
      await Promise.all(tests.map((info) => removeContainer(this.docker.getContainer(info.Id))));
      if (tests.length > 0) this.logger.info('removed the test containers of deploys in flight', { containers: tests.map((info) => info.Id.slice(0, 12)) });
    } catch (error) {
      this.logger.warn('could not remove the test containers of deploys in flight', { error: toKrakenError(error).message });
    }
  }

  /** Stops (SIGTERM, then SIGKILL after stopTimeout) and removes a deployment's container. */
  async stop(deploymentId: string): Promise<void> {
    const found = await this.requireContainer(deploymentId, 'stop');
    await this.stopAndRemove(deploymentId, found.instanceId);
    await this.kept.forget(deploymentId);
    this.logger.info('stopped and removed; kept versions freed', { deploymentId, containerId: found.instanceId });
  }

  /**
   * Stops a deployment's app and keeps its container and image, for startApp to run again without
   * a build. Stopping a stopped one does nothing; NotFound when this node has no container for it.
   */
  async stopApp(deploymentId: string): Promise<void> {
    const found = await this.requireContainer(deploymentId, 'stop');
    this.usage.forget(found.instanceId);
    await stopContainer(this.docker.getContainer(found.instanceId), deploymentId, Math.ceil(this.options.stopTimeoutMs / 1000));
    this.logger.info('stopped; container and image kept', { deploymentId, containerId: found.instanceId });
  }

  /**
   * Runs a stopped deployment's container again as it was made (same image, port, env: no build,
   * no test) and resolves when the app answers. NotFound when this node has no container for it.
   */
  async startApp(deploymentId: string): Promise<Deployment> {
    const found = await this.requireContainer(deploymentId, 'start');
    const container = this.docker.getContainer(found.instanceId);
    let made: Docker.ContainerInspectInfo;
    try {
      made = await container.inspect();
    } catch (error) {
      throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'inspect the app container' });
    }
    await startContainer(container, {
      deploymentId,
      hostPort: found.hostPort ?? boundPort(made, found.port),
      // containers made before the endpoint label existed are asked at /
      endpoint: made.Config.Labels[Label.Endpoint] ?? '/',
      timeoutMs: this.options.readyTimeoutMs,
      tailLines: this.options.errorTailLines,
    });
    const started = (await this.findContainer(deploymentId, 'start')) ?? found;
    this.logger.info('started again without a build', { deploymentId, containerId: found.instanceId, hostPort: started.hostPort });
    return started;
  }

  /** SIGTERM (the app may finish its requests), SIGKILL after stopTimeout, then removal. */
  private async stopAndRemove(deploymentId: string, containerId: string): Promise<void> {
    this.usage.forget(containerId);
    const container = this.docker.getContainer(containerId);
    try {
      await container.stop({ t: Math.ceil(this.options.stopTimeoutMs / 1000) });
    } catch (error) {
      // 304: already stopped; 404: removed meanwhile
      const status = engineStatus(error);
      if (status !== 304 && status !== 404) throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'stop the container' });
    }
    try {
      await removeContainer(container);
    } catch (error) {
      throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'remove the container' });
    }
  }

  /** Follows the output of the deployment's container as `followContainerLogs` says. */
  async followLogs(deploymentId: string, onLine: (line: LogLine) => void, options: FollowLogsOptions = {}): Promise<LogFollower> {
    const found = await this.requireContainer(deploymentId, 'follow the logs of');
    return await followContainerLogs(this.docker.getContainer(found.instanceId), { deploymentId, onLine, options, logger: this.logger });
  }

  /**
   * Reports this node's app containers ending and starting: with the restart policy set after
   * the ready check, the engine restarts an app that exits, and these events are how the worker
   * learns it. Rejects with Unavailable when the engine does not answer.
   */
  async watchRuns(listener: (event: AppRunEvent) => void): Promise<RunWatcher> {
    return await watchContainerRuns(this.docker, this.options.nodeId, this.logger, listener);
  }

  /** CPU, memory and image size of a deployment's container now (see ContainerUsage). */
  async stats(deploymentId: string): Promise<StatsSample> {
    const found = await this.requireContainer(deploymentId, 'read the stats of');
    try {
      return await this.usage.sample(found.instanceId, found.artifact);
    } catch (error) {
      throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'read container stats' });
    }
  }

  /**
   * Removes this node's deployment images that no container uses and no deployment keeps for a rollback, and the untagged context-stage
   * images the templates leave behind. Returns the removed image references.
   */
  async pruneImages(): Promise<string[]> {
    try {
      const containers = await this.docker.listContainers({ all: true });
      // kept versions wait for a rollback
      const inUse = new Set([...containers.map((info) => info.ImageID), ...(await this.kept.imageIds())]);
      const images = await this.docker.listImages({ filters: { label: [`${Label.Node}=${this.options.nodeId}`] } });
      const removed: string[] = [];
      for (const image of images) {
        if (inUse.has(image.Id)) continue;
        try {
          await this.docker.getImage(image.Id).remove({ force: true });
          removed.push(...(image.RepoTags ?? [image.Id]));
        } catch (error) {
          // a container may have started on it since the listing
          this.logger.debug('image not removed', { image: image.Id, error });
        }
      }
      await this.docker.pruneImages({ filters: { label: ['org.kraken.build-stage=context'], dangling: ['true'] } });
      return removed;
    } catch (error) {
      throw mapEngineError(error, { deploymentId: '', step: DeployStep.Build, action: 'prune images' });
    }
  }

  private async findContainer(deploymentId: string, action: string): Promise<Deployment | undefined> {
    let containers: Docker.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({ all: true, filters: labelFilters(this.options.nodeId, 'app', deploymentId) });
    } catch (error) {
      throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: `look up the container to ${action}` });
    }
    const first = containers[0];
    return first === undefined ? undefined : describeContainer(first);
  }

  private async requireContainer(deploymentId: string, action: string): Promise<Deployment> {
    const found = await this.findContainer(deploymentId, action);
    if (found === undefined) {
      throw new KrakenError(ErrorCode.NotFound, `cannot ${action} deployment ${deploymentId}: this node (${this.options.nodeId}) runs no container for it`, {
        deploymentId,
        nodeId: this.options.nodeId,
      });
    }
    return found;
  }
}

function describeContainer(info: Docker.ContainerInfo): Deployment {
  const labels = info.Labels;
  const portLabel = labels[Label.Port];
  const port = portLabel === undefined ? undefined : Number(portLabel);
  const binding = port === undefined ? undefined : info.Ports.find((entry) => entry.PrivatePort === port && entry.Type === 'tcp' && entry.PublicPort > 0);
  return {
    deploymentId: labels[Label.Deployment] ?? '',
    instanceId: info.Id,
    instanceName: (info.Names[0] ?? '').replace(/^\//, ''),
    artifact: info.Image,
    appName: labels[Label.App] ?? '',
    commit: labels[Label.Commit] ?? '',
    state: info.State,
    port,
    hostPort: binding?.PublicPort,
  };
}

/** The host port a container's binding asks for (a stopped container lists no published ports). */
function boundPort(info: Docker.ContainerInspectInfo, port: number | undefined): number | undefined {
  if (port === undefined) return undefined;
  // dockerode types PortBindings as any
  const bindings = info.HostConfig.PortBindings as Record<string, { HostPort?: string }[] | undefined> | undefined;
  const hostPort = Number(bindings?.[`${port}/tcp`]?.[0]?.HostPort);
  return Number.isInteger(hostPort) && hostPort > 0 ? hostPort : undefined;
}
