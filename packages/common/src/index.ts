// Public surface of @kraken/common: the error model, results, logging and configuration that
// every Kraken package shares.
export { ErrorCode, KrakenError, isKrakenError, toKrakenError } from './errors.js';
export type { KrakenErrorOptions } from './errors.js';
export { ok, err } from './result.js';
export type { Result } from './result.js';
export { parseDuration } from './duration.js';
export { createLogger, noopLogger, MemoryLogger, logLevels } from './logger.js';
export type { Logger, LogLevel, LogFields, LogRecord, CreateLoggerOptions } from './logger.js';
export { loadConfig } from './config.js';
export type { LoadConfigOptions, LoadedConfig, ConfigSource } from './config.js';
export { TypedEmitter } from './typed-emitter.js';
export type { EventMap } from './typed-emitter.js';
export { systemClock, isoTime } from './clock.js';
export type { Clock } from './clock.js';
export { optionChecks } from './option-checks.js';
export type { OptionChecks } from './option-checks.js';
export { freePort, freePortRange, listenFailure } from './ports.js';
export { listeningSockets } from './listening-sockets.js';
export { hasExited, parseProcStat, readProcStat } from './proc-stat.js';
export type { ProcStat } from './proc-stat.js';
export type { ListeningSocket } from './listening-sockets.js';
export { redactCredentials } from './redact.js';
export { withTimeout, settlesWithin } from './timeout.js';
export { RepoFileRefused, readRepoFile } from './repo-file.js';
export type { RepoFileRefusal } from './repo-file.js';
export { seededRandom } from './seeded-random.js';
export { KEPT_VERSIONS } from './kept-versions.js';
