import path from 'node:path';

/** Where one deployment's files live: everything under one folder, so removing it removes all. */
export interface DeploymentPaths {
  dir: string;
  /** The checkout the app runs in. */
  app: string;
  state: string;
  stdout: string;
  stderr: string;
  /** Python packages from requirements.txt (`pip install --target`), put on PYTHONPATH. */
  pythonDeps: string;
  /** The built-in static file server's script (static apps). */
  staticServer: string;
  /** Earlier successful builds, one folder per commit holding the build parts, for a rollback without a build. */
  kept: string;
  /** Which versions are kept, newest first (the running one included). */
  keptList: string;
}

export function deploymentsDir(dataDir: string): string {
  return path.join(dataDir, 'deployments');
}

export function deploymentPaths(dataDir: string, deploymentId: string): DeploymentPaths {
  const dir = path.join(deploymentsDir(dataDir), deploymentId);
  return {
    dir,
    app: path.join(dir, 'app'),
    state: path.join(dir, 'state.json'),
    stdout: path.join(dir, 'stdout.log'),
    stderr: path.join(dir, 'stderr.log'),
    pythonDeps: path.join(dir, '.deps'),
    staticServer: path.join(dir, 'static-server.mjs'),
    kept: path.join(dir, 'kept'),
    keptList: path.join(dir, 'kept.json'),
  };
}

/**
 * What a build made and the app runs from. A kept version moves them aside and a rollback moves
 * them back to the same paths, so the absolute paths in its command and environment stay right.
 */
export function buildParts(paths: DeploymentPaths): string[] {
  return [paths.app, paths.pythonDeps, paths.staticServer];
}
