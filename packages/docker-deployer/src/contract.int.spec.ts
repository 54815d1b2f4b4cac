import { MemoryLogger } from '@kraken/common';
import { uniqueName } from '@kraken/testing';
import { deployerContract } from '@kraken/runtime/contract';
import { cleanupNode, docker, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

deployerContract('DockerDeployer', {
  create(workDir) {
    // a node of its own per test, so list() sees only what the test deployed
    const nodeId = uniqueName('contract-it');
    const open = () => new DockerDeployer({ docker, nodeId, workDir, templatesDir, logger: new MemoryLogger(), readyTimeout: '60s' });
    let deployer = open();
    return Promise.resolve({
      get deployer() {
        return deployer;
      },
      // as an agent stops: apps keep running, and the next deployer finds them by their labels
      async restart() {
        await deployer.close();
        deployer = open();
        return deployer;
      },
      dispose: () => cleanupNode(nodeId),
    });
  },
  // image builds share two cores with other tests: generous, and no assertion on how long they take
  timeoutMs: 300_000,
});
