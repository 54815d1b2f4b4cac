import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import type { Manifest } from '@kraken/shipwreck';
import { KeptFile, findKept, keepNewest } from '@kraken/runtime';
import type { KeptVersion } from '@kraken/runtime';
import { engineStatus } from './errors.js';

/** A deployment's successful build kept for a rollback: its image (by id, tagged so no prune takes it) and the manifest to run it with. */
export interface KeptImage extends KeptVersion {
  /** The image id. */
  image: string;
  /** `kraken/<app>:<deploymentId>-<commit12>`: holds the image while the deployment's own tag moves on to newer builds. */
  tag: string;
  manifest: Manifest;
}

/**
 * The last few successful images of each deployment on one engine, listed in a file per deployment
 * under `<workDir>/kept` (the manifest to run an image with is not in the image). Every failure
 * to keep or free a version is logged, never thrown: a deploy that succeeded stays a success.
 */
export class KeptImages {
  constructor(
    private readonly docker: Docker,
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  private file(deploymentId: string): KeptFile<KeptImage> {
    return new KeptFile<KeptImage>(path.join(this.dir, `${deploymentId}.json`));
  }

  /** The kept build of `commit` (a full sha or an abbreviation) whose image is still on the engine. */
  async find(deploymentId: string, commit: string): Promise<KeptImage | undefined> {
    const found = findKept(await this.file(deploymentId).read(), commit);
    if (found === undefined) return undefined;
    try {
      await this.docker.getImage(found.image).inspect();
      return found;
    } catch (error) {
      if (engineStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The kept versions of a deployment, newest first. */
  async list(deploymentId: string): Promise<KeptImage[]> {
    return await this.file(deploymentId).read();
  }

  /** Keeps the image a deployment's new container runs (by id); a failure is logged, not thrown (the deploy succeeded). */
  async keep(deploymentId: string, image: string, manifest: Manifest, commit: string, now: Date): Promise<void> {
    try {
      await this.add(deploymentId, image, manifest, commit, now);
    } catch (error) {
      this.logger.warn('could not keep this version for a rollback', { deploymentId, commit, error });
    }
  }

  /**
   * Keeps an image (by id) as the newest version of a deployment: tagged so no prune takes it; the
   * oldest beyond KEPT_VERSIONS are untagged. Throws when it could not.
   */
  async add(deploymentId: string, image: string, manifest: Manifest, commit: string, now: Date): Promise<void> {
    const [repo = '', tagName = ''] = keptTag(manifest.app.name, deploymentId, commit).split(':');
    await this.docker.getImage(image).tag({ repo, tag: tagName });
    const file = this.file(deploymentId);
    const entry: KeptImage = { commit, keptAt: now.toISOString(), image, tag: `${repo}:${tagName}`, manifest };
    const { kept, dropped } = keepNewest(await file.read(), entry);
    await file.write(kept);
    for (const old of dropped) await this.untag(old);
  }

  /** Frees every kept version of a deployment (it is removed from this node). */
  async forget(deploymentId: string): Promise<void> {
    try {
      const file = this.file(deploymentId);
      for (const old of await file.read()) await this.untag(old);
      await file.remove();
    } catch (error) {
      this.logger.warn('could not free the kept versions', { deploymentId, error });
    }
  }

  /** The ids of every kept image on this node, which an image prune must spare. */
  async imageIds(): Promise<Set<string>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return new Set();
    }
    const ids = new Set<string>();
    for (const name of names.filter((entry) => entry.endsWith('.json'))) {
      try {
        for (const version of await new KeptFile<KeptImage>(path.join(this.dir, name)).read()) ids.add(version.image);
      } catch (error) {
        this.logger.warn('unreadable kept versions file; its images may be pruned', { file: name, error });
      }
    }
    return ids;
  }

  private async untag(version: KeptImage): Promise<void> {
    try {
      // by tag, not forced: the image goes only when nothing else (another tag, a container) holds it
      await this.docker.getImage(version.tag).remove();
    } catch (error) {
      this.logger.debug('kept image not removed', { tag: version.tag, error });
    }
  }
}

/** `kraken/<app>:<deploymentId>-<commit12>`, lowercased because image references must be. */
export function keptTag(appName: string, deploymentId: string, commit: string): string {
  return `kraken/${appName}:${deploymentId}-${commit.slice(0, 12)}`.toLowerCase();
}
