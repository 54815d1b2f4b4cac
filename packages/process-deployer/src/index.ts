// Public surface of @kraken/process-deployer: every export is listed by name.
export { ProcessDeployer } from './deployer.js';
export { compileProcessOptions, defaultProcessOptions } from './options.js';
export type { ProcessDeployerOptions, CompiledProcessOptions, RestartPolicy } from './options.js';
