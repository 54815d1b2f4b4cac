// Public surface of @kraken/docker-deployer: every export is listed by name.
export { DockerDeployer } from './deployer.js';
export type { DeployResult, Deployment, FollowLogsOptions, LogLine, LogFollower } from './deployer.js';
export type { DeployLimits, DeployRequest, PrepareRequest, PrepareResult } from './request.js';
export { validateLimits } from './request.js';
export { DeployStep } from './errors.js';
export type { DeployProgress, ProgressListener, ProgressStream, StepLine, StepRunner } from './progress.js';
export { stepRunner, withStep } from './progress.js';
export { guardDeploy } from './deploy-guard.js';
export { PreparesInFlight } from './prepare-guard.js';
export { compileOptions, defaultOptions, defaultTemplatesDir } from './options.js';
export type { DockerDeployerOptions, CompiledDeployerOptions } from './options.js';
export { Label, buildLabels, containerName, imageTag } from './labels.js';
export type { ContainerRole, LabelInput } from './labels.js';
export type { StatsSample } from './stats.js';
export type { AppRunEvent, RunWatcher } from './run-events.js';
export { memoryLimitCause } from './run-events.js';
export type { OutputStream } from './demux.js';
export { MAX_LOG_READ_LINES, MAX_LOG_RESUME_BYTES } from './log-cursor.js';
// Shared with other runtimes (the process runtime) so every runtime clones, names steps and probes alike.
export { shallowClone } from './git.js';
export type { CloneRequest, CloneResult } from './git.js';
export { deployError } from './errors.js';
export { probeHttp } from './probe.js';
export { KeptFile, findKept, keepNewest } from './kept.js';
export type { KeptVersion } from './kept.js';
