import type Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import { DeployStep, stepRunner } from '@kraken/runtime';
import type { PrepareRequest, PrepareResult } from '@kraken/runtime';
import { mapEngineError } from './errors.js';
import type { KeptImages } from './kept-images.js';
import { keptTag } from './kept-images.js';
import type { CompiledDeployerOptions } from './options.js';
import { buildFromSource } from './source-build.js';

/**
 * The build API's lowest CPU weight (the default is 1024): under contention a failover build gets
 * a sliver of the CPU next to the apps and the deploys this node runs, and all of it when idle.
 */
const FAILOVER_BUILD_CPU_SHARES = 2;

export interface FailoverBuildContext {
  docker: Docker;
  options: CompiledDeployerOptions;
  kept: KeptImages;
  log: Logger;
  now: () => Date;
}

/**
 * Clones and builds `request.commit` (no test: it passed where the deployment runs; no run) at the
 * lowest CPU weight and keeps the image as a version of the deployment. The image is tagged with its
 * kept tag only, never with the deployment's own tag, which a deploy on this node moves. Resolves at
 * once when that commit is kept already. On failure nothing of it is left: no checkout, no tag.
 */
export async function buildForFailover(context: FailoverBuildContext, request: PrepareRequest): Promise<PrepareResult> {
  const { docker, kept, log } = context;
  const { deploymentId } = request;
  const found = await kept.find(deploymentId, request.commit);
  if (found !== undefined) {
    log.debug('failover build: this commit is kept already', { commit: found.commit });
    return { deploymentId, commit: found.commit, alreadyKept: true };
  }
  log.info('failover build: building the commit the deployment runs elsewhere, at low priority', { commit: request.commit });
  const built = await buildFromSource(docker, context.options, log, {
    deploymentId,
    url: request.url,
    branch: request.branch,
    commit: request.commit,
    step: stepRunner(deploymentId, undefined, log),
    tagFor: (manifest, commit) => keptTag(manifest.app.name, deploymentId, commit),
    cpuShares: FAILOVER_BUILD_CPU_SHARES,
  });
  await built.checkoutRemoved;
  try {
    const { Id } = await docker
      .getImage(built.image)
      .inspect()
      .catch((error: unknown) => {
        throw mapEngineError(error, { deploymentId, step: DeployStep.Build, action: 'inspect the built image' });
      });
    await kept.add(deploymentId, Id, built.manifest, built.commit, context.now());
  } catch (error) {
    // by tag, not forced: layers another image shares stay
    await docker
      .getImage(built.image)
      .remove()
      .catch(() => undefined);
    throw error;
  }
  log.info('failover build kept', { commit: built.commit, image: built.image });
  return { deploymentId, commit: built.commit, alreadyKept: false };
}
