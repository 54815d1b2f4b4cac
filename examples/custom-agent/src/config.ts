import { hostname } from 'node:os';
import { ErrorCode, KrakenError, parseDuration } from '@kraken/common';
import { ID_PATTERN } from '@kraken/messages';
import { SYSFS_THERMAL_DIR } from './thermal-zones.js';

export interface AgentConfig {
  brokerUrl: string;
  nodeId: string;
  thermalDir: string;
  sampleIntervalMs: number;
}

/** Reads the environment once, at start; every variable has a default. */
export function readConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const nodeId = env['KRAKEN_NODE_ID'] ?? defaultNodeId();
  if (!ID_PATTERN.test(nodeId)) {
    throw invalid(`KRAKEN_NODE_ID: expected 1-64 characters from [A-Za-z0-9._-], got ${JSON.stringify(nodeId)}`);
  }
  let sampleIntervalMs: number;
  try {
    sampleIntervalMs = parseDuration(env['KRAKEN_SAMPLE_INTERVAL'] ?? '10s');
  } catch (error) {
    throw invalid(`KRAKEN_SAMPLE_INTERVAL: ${(error as Error).message}`);
  }
  if (sampleIntervalMs < 100) throw invalid(`KRAKEN_SAMPLE_INTERVAL: expected at least 100ms, got ${sampleIntervalMs} ms`);
  return {
    brokerUrl: env['KRAKEN_BROKER_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    nodeId,
    thermalDir: env['KRAKEN_THERMAL_DIR'] ?? SYSFS_THERMAL_DIR,
    sampleIntervalMs,
  };
}

/**
 * The host name plus `-custom`. Never the bare host name or the `kraken` agent's id: each node id
 * has its own command queue, and two workers on one queue would take each other's commands.
 */
function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 50) || 'node';
  return `${host}-custom`;
}

function invalid(message: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidConfig, message);
}
