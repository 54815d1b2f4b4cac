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
  };
}
