import path from 'node:path';
import { tempDir } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import { ProcessDeployer } from '../src/index.js';
import type { ProcessDeployerOptions } from '../src/index.js';

type Options = Omit<ProcessDeployerOptions, 'dataDir'>;

/**
 * Stops whatever a test left running on `dataDir`. close() leaves apps running for the next
 * deployer on the folder, so a fresh one adopts them, and stops each.
 */
export async function stopLeftovers(options: Options, dataDir: string): Promise<void> {
  const cleaner = await ProcessDeployer.create({ ...options, dataDir });
  try {
    for (const deployment of await cleaner.list()) await cleaner.stop(deployment.deploymentId).catch(() => undefined);
  } finally {
    await cleaner.close();
  }
}

export interface DeployerPerTest {
  /** The test's own folder (its repositories go below it), removed after the test. */
  readonly dir: TempDir;
  /** The deployer's folder, inside `dir`. */
  readonly dataDir: string;
  /** The test's deployer (the newest, after a `restart`). */
  readonly deployer: ProcessDeployer;
  /** Closes the deployer and creates another on the same folder, as an agent restart does. */
  restart(): Promise<ProcessDeployer>;
}

/**
 * Gives each test of the calling `describe` a deployer on a folder of its own, and after the test
 * closes it, stops what the test left running and removes the folder.
 */
export function deployerPerTest(prefix: string, options: Options): DeployerPerTest {
  let current: { dir: TempDir; dataDir: string; deployer: ProcessDeployer } | undefined;
  const get = () => {
    if (current === undefined) throw new Error('deployerPerTest: used outside a test of the describe block that called it');
    return current;
  };

  beforeEach(async () => {
    const dir = await tempDir(prefix);
    const dataDir = path.join(dir.path, 'data');
    current = { dir, dataDir, deployer: await ProcessDeployer.create({ ...options, dataDir }) };
  });

  afterEach(async () => {
    const { dir, dataDir, deployer } = get();
    current = undefined;
    await deployer.close();
    try {
      await stopLeftovers(options, dataDir);
    } finally {
      await dir.remove();
    }
  });

  return {
    get dir() {
      return get().dir;
    },
    get dataDir() {
      return get().dataDir;
    },
    get deployer() {
      return get().deployer;
    },
    async restart() {
      const test = get();
      await test.deployer.close();
      test.deployer = await ProcessDeployer.create({ ...options, dataDir: test.dataDir });
      return test.deployer;
    },
  };
}
