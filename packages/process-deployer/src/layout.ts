import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * Where one deployment's files live: everything under one folder, so removing it removes all. Each
 * version's build has a folder of its own under `versions/`, so a new version is built and started
 * while the one before still runs from its own.
 */
export interface DeploymentPaths {
  dir: string;
  /** The state of the version that serves (see ProcessState). */
  state: string;
  /**
   * The state of a version started beside the one that serves, until it takes over: an agent that
   * restarts before then ends it, and the version before serves on.
   */
  candidateState: string;
  /** Both versions write here during a switch: one log for the deployment, as with a container's replace. */
  stdout: string;
  stderr: string;
  /** One folder per build. */
  versions: string;
  /** Which versions are kept, newest first (the running one included). */
  keptList: string;
  /** Where an agent before version folders kept earlier builds; moved into `versions/` by migrateLegacyLayout. */
  legacyKept: string;
}

/** What a build made and its version runs from: the checkout and what its install added. */
export interface BuildPaths {
  root: string;
  /** The checkout the app runs in. */
  app: string;
  /** Python packages from requirements.txt (`pip install --target`), put on PYTHONPATH. */
  pythonDeps: string;
  /** The built-in static file server's script (static apps). */
  staticServer: string;
}

export function deploymentsDir(dataDir: string): string {
  return path.join(dataDir, 'deployments');
}

export function deploymentPaths(dataDir: string, deploymentId: string): DeploymentPaths {
  const dir = path.join(deploymentsDir(dataDir), deploymentId);
  return {
    dir,
    state: path.join(dir, 'state.json'),
    candidateState: path.join(dir, 'candidate.json'),
    stdout: path.join(dir, 'stdout.log'),
    stderr: path.join(dir, 'stderr.log'),
    versions: path.join(dir, 'versions'),
    keptList: path.join(dir, 'kept.json'),
    legacyKept: path.join(dir, 'kept'),
  };
}

/**
 * The parts of the build in `root`. A build of an agent before version folders has the
 * deployment's folder itself as its root.
 */
export function buildPaths(root: string): BuildPaths {
  return { root, app: path.join(root, 'app'), pythonDeps: path.join(root, '.deps'), staticServer: path.join(root, 'static-server.mjs') };
}

/** A folder for a build not made yet: its commit is known only once it is cloned. */
export function newBuildPaths(paths: DeploymentPaths): BuildPaths {
  return buildPaths(path.join(paths.versions, `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`));
}

/** Where the running version stopped during a switch records what runs until its drain ends, so a restarted agent ends it. */
export function retiringStatePath(paths: DeploymentPaths, pid: number): string {
  return path.join(paths.dir, `retiring-${String(pid)}.json`);
}

export function isRetiringState(name: string): boolean {
  return /^retiring-\d+\.json$/.test(name);
}
