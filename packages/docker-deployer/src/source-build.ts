import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import { toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { Lang, readManifest } from '@kraken/shipwreck';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, shallowClone } from '@kraken/runtime';
import type { StepRunner } from '@kraken/runtime';
import { TEMPLATE_NAME, buildContext } from './build-context.js';
import { buildImage } from './build-image.js';
import { withLabels } from './dockerfile.js';
import { imageLabels } from './labels.js';
import type { CompiledDeployerOptions } from './options.js';
import { isTemplateLang, readTemplate } from './templates.js';

/** The legacy builder's words for a cached parent layer that vanished mid-build. */
const LOST_PARENT = /unknown parent image ID|failed to set parent|No such image: sha256:/i;

export interface SourceBuildInput {
  deploymentId: string;
  url: string;
  branch: string;
  commit?: string | undefined;
  step: StepRunner;
  /** The tag the image gets, from what the clone found. */
  tagFor: (manifest: Manifest, commit: string) => string;
  /** The build's relative CPU weight (the engine's `cpushares`); unset builds at the engine's default. */
  cpuShares?: number;
}

export interface SourceBuild {
  manifest: Manifest;
  /** The full sha of what was built. */
  commit: string;
  image: string;
  /**
   * The checkout is only build input: its removal starts once the image is built, runs while the
   * caller goes on, and settles (never rejecting) when it is gone.
   */
  checkoutRemoved: Promise<void>;
}

/**
 * Clone, manifest and image build of one commit under `<workDir>/builds`, as every deploy and every
 * failover build does them. On failure the checkout is removed before the error is thrown.
 */
export async function buildFromSource(docker: Docker, options: CompiledDeployerOptions, log: Logger, input: SourceBuildInput): Promise<SourceBuild> {
  const { deploymentId, step } = input;
  const buildsDir = path.join(options.workDir, 'builds');
  await mkdir(buildsDir, { recursive: true });
  const buildDir = await mkdtemp(path.join(buildsDir, `${deploymentId}-`));
  const checkout = path.join(buildDir, 'src');
  const removeCheckout = (): Promise<void> =>
    rm(buildDir, { recursive: true, force: true }).catch((error: unknown) => {
      log.warn('could not remove build folder', { buildDir, error });
    });
  try {
    const clone = { url: input.url, branch: input.branch, dir: checkout, deploymentId, ...(input.commit === undefined ? {} : { commit: input.commit }) };
    const { commit } = await step(DeployStep.Clone, () => shallowClone(clone, options.cloneTimeoutMs));
    const manifest = await step(DeployStep.Manifest, () => readManifest(checkout));
    const image = input.tagFor(manifest, commit);
    await step(DeployStep.Build, (line) =>
      buildAppImage(docker, options, {
        checkout,
        manifest,
        image,
        deploymentId,
        commit,
        ...(input.cpuShares === undefined ? {} : { cpuShares: input.cpuShares }),
        onLine: (text) => {
          line('build', text);
        },
      }),
    );
    return { manifest, commit, image, checkoutRemoved: removeCheckout() };
  } catch (error) {
    await removeCheckout();
    throw error;
  }
}

async function buildAppImage(
  docker: Docker,
  options: CompiledDeployerOptions,
  input: { checkout: string; manifest: Manifest; image: string; deploymentId: string; commit: string; cpuShares?: number; onLine: (text: string) => void },
): Promise<void> {
  const { deploymentId, manifest, onLine } = input;
  const lang = manifest.config.lang;
  const labels = imageLabels({ nodeId: options.nodeId, appName: manifest.app.name, commit: input.commit });
  // template builds carry their labels in the Dockerfile as one step (see withLabels); the build
  // API's labels option stays for an app's own Dockerfile, whose syntax Kraken does not rewrite
  let template: string | undefined;
  let dockerfile: string;
  let apiLabels: Record<string, string> = {};
  const buildArgs: Record<string, string> = {};
  if (isTemplateLang(lang)) {
    template = withLabels(await readTemplate(options.templatesDir, lang, deploymentId), labels);
    dockerfile = TEMPLATE_NAME;
    Object.assign(buildArgs, options.buildArgs);
    const base = options.baseImages[lang];
    if (base !== undefined) buildArgs['BASE_IMAGE'] = base;
    if (manifest.config.port !== undefined) buildArgs['PORT'] = String(manifest.config.port);
    if (lang === Lang.Static) buildArgs['SITE_ROOT'] = manifest.config.root ?? '.';
  } else {
    dockerfile = manifest.config.dockerfile ?? 'Dockerfile';
    apiLabels = labels;
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await buildImage(docker, {
        deploymentId,
        context: await buildContext(input.checkout, template),
        tag: input.image,
        dockerfile,
        buildArgs,
        labels: apiLabels,
        timeoutMs: options.buildTimeoutMs,
        tailLines: options.errorTailLines,
        ...(input.cpuShares === undefined ? {} : { cpuShares: input.cpuShares }),
        onLine,
      });
      return;
    } catch (error) {
      // Layers are shared between images of the same content. An image removal elsewhere on the
      // engine (a prune, another node's cleanup) can delete the cached layer this build was
      // about to build on; a second build makes it again.
      if (attempt > 1 || !LOST_PARENT.test(toKrakenError(error).message)) throw error;
      onLine('kraken: a cached layer was removed from the engine during the build; building again');
    }
  }
}
