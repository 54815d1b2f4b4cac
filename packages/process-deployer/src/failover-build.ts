import type { Logger } from '@kraken/common';
import { DeployStep, stepRunner } from '@kraken/runtime';
import type { PrepareRequest, PrepareResult } from '@kraken/runtime';
import { handOver } from './app-user.js';
import type { AppAccount } from './app-user.js';
import { checkoutSource } from './checkout.js';
import { discardDeployment, finishBuild, removeBuild, startBuild } from './build-folders.js';
import type { KeptBuilds } from './kept-builds.js';
import type { DeploymentPaths } from './layout.js';
import type { CompiledProcessOptions } from './options.js';
import { prepareApp } from './prepare.js';

/** The lowest priority: a failover build's installs get the CPU the apps and deploys of this node leave. */
const FAILOVER_BUILD_NICENESS = 19;

export interface FailoverBuildContext {
  options: CompiledProcessOptions;
  /** The unprivileged user the installs run as; undefined: the agent's. */
  account: AppAccount | undefined;
  /** The deployment's folder: it must run nothing here; the build gets a version folder in it. */
  paths: DeploymentPaths;
  kept: KeptBuilds;
  log: Logger;
  /** Ends the installs when the deployer closes. */
  signal: AbortSignal;
}

/**
 * Clones `request.commit` and installs it (no test: it passed where the deployment runs; no run)
 * with its installs niced to 19, in a version folder of the deployment, and lists it as a kept
 * version, where a deploy with `fromKept` runs it. Resolves at once when that commit is kept
 * already. On failure the folder keeps only the versions kept before.
 */
export async function buildForFailover(context: FailoverBuildContext, request: PrepareRequest): Promise<PrepareResult> {
  const { options, paths, kept, log } = context;
  const { deploymentId } = request;
  const found = await kept.find(request.commit);
  if (found !== undefined) {
    log.debug('failover build: this commit is kept already', { commit: found.commit });
    return { deploymentId, commit: found.commit, alreadyKept: true };
  }
  log.info('failover build: building the commit the deployment runs elsewhere, at low priority', { commit: request.commit });
  const step = stepRunner(deploymentId, undefined, log);
  const build = await startBuild(paths);
  try {
    const { commit, manifest, lang } = await checkoutSource(request, { paths: build, cloneTimeoutMs: options.cloneTimeoutMs, step });
    const env = { ...options.baseEnv, ...manifest.config.env, ...request.env };
    const prepared = await step(DeployStep.Build, async (line) => {
      await handOver(build.app, context.account, options.baseEnv);
      return await prepareApp({ deploymentId, lang, manifest, paths: build, env, options, line, signal: context.signal, niceness: FAILOVER_BUILD_NICENESS, runAs: context.account });
    });
    await kept.add({ deploymentId, appName: manifest.app.name, commit, lang, command: prepared.command, cwd: build.app, buildDir: build.root, builtEnv: prepared.env }, new Date(options.clock.now()));
    await finishBuild(build);
    log.info('failover build kept', { commit });
    return { deploymentId, commit, alreadyKept: false };
  } catch (error) {
    await removeBuild(paths, build)
      .then(() => discardDeployment(paths))
      .catch((cleanupError: unknown) => {
        log.warn('could not remove the failed failover build', { dir: paths.dir, error: cleanupError });
      });
    throw error;
  }
}
