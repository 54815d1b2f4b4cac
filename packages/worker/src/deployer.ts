import type { Isolation, Runtime } from '@kraken/messages';
import type { Deployer as RuntimeDeployer } from '@kraken/runtime';

/**
 * A runtime as the worker uses it: the runtime contract (`@kraken/runtime`), plus what the worker
 * reports about it in node.info. DockerDeployer and ProcessDeployer satisfy it; unit tests use a fake.
 */
export interface Deployer extends RuntimeDeployer {
  /** What runs the apps: reported in heartbeats and checked against requests. @default 'docker' */
  readonly runtime?: Runtime;
  /** What the runtime enforces on the apps (whose user they run as, limits): reported in heartbeats. */
  readonly isolation?: Isolation;
}

/** Anything that answers when the container engine is up (dockerode's `ping`). */
export interface EngineProbe {
  ping(): Promise<unknown>;
}
