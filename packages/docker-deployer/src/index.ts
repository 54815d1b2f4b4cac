// Public surface of @kraken/docker-deployer: every export is listed by name.
// The runtime contract it implements (Deployer, its records, steps and errors) is @kraken/runtime's.
export { DockerDeployer } from './deployer.js';
export { compileOptions, defaultOptions, defaultTemplatesDir } from './options.js';
export type { DockerDeployerOptions, CompiledDeployerOptions } from './options.js';
export { Label, buildLabels, imageTag } from './labels.js';
export type { ContainerRole, LabelInput } from './labels.js';
