// Public surface of @kraken/runtime: every export is listed by name.
// The contract between the worker and the runtimes that run apps (Docker, plain processes), and
// what every runtime shares so that they clone, name steps, validate, probe and report alike.
export type { AppRunEvent, Deployer, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, OutputStream, RunWatcher, StatsSample } from './deployer.js';
export { memoryLimitCause } from './deployer.js';
export type { DeployLimits, DeployRequest, PrepareRequest, PrepareResult } from './request.js';
export { describeValue, effectiveLimits, invalidField, isDeploymentId, validateLimits, validateRequestFields } from './request.js';
export { DeployStep, deployError } from './errors.js';
export type { DeployProgress, ProgressListener, ProgressStream, StepLine, StepRunner } from './progress.js';
export { stepRunner } from './progress.js';
export { guardDeploy } from './deploy-guard.js';
export { PreparesInFlight } from './prepare-guard.js';
export { instanceName } from './names.js';
export { MAX_LOG_READ_LINES, MAX_LOG_RESUME_BYTES } from './logs.js';
export { shallowClone, validateCommit } from './git.js';
export type { CloneRequest, CloneResult } from './git.js';
export { ProbeSeries, delay, probeHttp } from './probe.js';
export type { ProbeResult } from './probe.js';
export { assertPortFree, pickFreePort } from './ports.js';
export { Tail } from './tail.js';
export { KeptFile, findKept, keepNewest } from './kept.js';
export type { KeptVersion } from './kept.js';
export { compileRuntimeOptions, defaultRuntimeOptions } from './options.js';
export type { CompiledRuntimeOptions, RuntimeOptions } from './options.js';
