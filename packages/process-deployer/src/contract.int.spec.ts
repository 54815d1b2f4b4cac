import { deployerContract } from '@kraken/runtime/contract';
import { stopLeftovers } from '../test/deployer-per-test.js';
import { ProcessDeployer } from './index.js';

const options = { nodeId: 'node-contract', readyTimeout: '30s', stopTimeout: '3s' } as const;

deployerContract('ProcessDeployer', {
  async create(dataDir) {
    let deployer = await ProcessDeployer.create({ ...options, dataDir });
    return {
      get deployer() {
        return deployer;
      },
      async restart() {
        // close() leaves the apps running, for the next deployer on the folder to adopt
        await deployer.close();
        deployer = await ProcessDeployer.create({ ...options, dataDir });
        return deployer;
      },
      async dispose() {
        await deployer.close();
        await stopLeftovers(options, dataDir);
      },
    };
  },
  timeoutMs: 60_000,
});
