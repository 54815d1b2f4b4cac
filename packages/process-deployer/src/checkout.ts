import { ErrorCode } from '@kraken/common';
import { Lang, readManifest } from '@kraken/shipwreck';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, deployError, shallowClone } from '@kraken/runtime';
import type { StepRunner } from '@kraken/runtime';
import type { BuildPaths } from './layout.js';
import type { ProcessLang } from './prepare.js';

export interface CheckedOut {
  /** The full sha of the checkout. */
  commit: string;
  manifest: Manifest;
  lang: ProcessLang;
}

/**
 * Clones a commit (or the branch head) into a build folder and reads its manifest, as
 * every deploy and failover build of this runtime does before its build. The folder must hold no build.
 */
export async function checkoutSource(
  source: { deploymentId: string; url: string; branch: string; commit?: string | undefined },
  context: { paths: BuildPaths; cloneTimeoutMs: number; step: StepRunner },
): Promise<CheckedOut> {
  const { deploymentId } = source;
  const { paths, step } = context;
  const { commit } = await step(DeployStep.Clone, () =>
    shallowClone({ url: source.url, branch: source.branch, dir: paths.app, deploymentId, ...(source.commit === undefined ? {} : { commit: source.commit }) }, context.cloneTimeoutMs),
  );
  const manifest = await step(DeployStep.Manifest, () => readManifest(paths.app));
  return { commit, manifest, lang: processLang(manifest, deploymentId) };
}

function processLang(manifest: Manifest, deploymentId: string): ProcessLang {
  const lang = manifest.config.lang;
  if (lang === Lang.Custom) {
    throw deployError(ErrorCode.Unavailable, 'lang custom needs a Docker engine (none answered): it builds the repository\'s own Dockerfile; deploy it on a node with Docker, or use lang node, python3 or static', {
      deploymentId,
      step: DeployStep.Build,
      details: { lang, runtime: 'process' },
    });
  }
  return lang;
}
