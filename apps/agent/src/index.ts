// Public surface of @kraken/agent: the run loop and its parts, for building your own agent.
export { Agent } from './run/agent.js';
export type { AgentOptions } from './run/agent.js';
export type { Executor } from './run/executor.js';
export { startAgent } from './run/start-agent.js';
export type { RunningAgent, StartAgentOptions } from './run/start-agent.js';
export { decideRole } from './run/decide-role.js';
export type { Role, RoleInput, OrchestratorFinders } from './run/decide-role.js';
export { joinCluster } from './run/join-cluster.js';
export { joinFirstAccepting } from './run/join-first-accepting.js';
export type { JoinFirstAcceptingInput, JoinedCluster, JoinRefusal } from './run/join-first-accepting.js';
export { agentConfigSchema, loadAgentConfig, DEFAULT_API_PORT } from './config/agent-config.js';
export type { AgentConfig, LoadAgentConfigInput } from './config/agent-config.js';
export { runCli } from './program.js';
export type { CliContext } from './program.js';
export { ApiClient } from './client/api-client.js';
export type { ApiClientOptions } from './client/api-client.js';
export { ExitCode, exitCodeOf } from './client/exit-codes.js';
export type { CommandIo } from './client/io.js';
