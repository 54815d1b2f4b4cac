import type { NodeInfoBody } from '@kraken/messages';
import { DeploymentStatus } from '@kraken/messages';
import type { DeploymentRecord } from '../src/store/records.js';

export interface NodeShape {
  freeMb?: number;
  totalMb?: number;
  cores?: number;
  load?: number;
  runtimes?: NodeInfoBody['runtimes'];
  deployments?: string[];
  /** Deployments it says it is working on; absent = an older worker that does not say. */
  working?: string[];
  dockerHealthy?: boolean;
  cpuBusyPercent?: number;
  disk?: { usedMb: number; totalMb: number };
  /** The failover builds it reports; absent = an older worker that cannot make them. */
  failoverBuilds?: NodeInfoBody['failoverBuilds'];
  /** What its runtime enforces; absent = an older worker that does not say. */
  isolation?: NodeInfoBody['isolation'];
}

/** A plausible node.info body; only what a test cares about needs saying. */
export function nodeInfo(nodeId: string, shape: NodeShape = {}): NodeInfoBody {
  const totalMb = shape.totalMb ?? 8192;
  const freeMb = shape.freeMb ?? 4096;
  return {
    nodeId,
    hostname: `${nodeId}.lan`,
    addresses: ['192.168.1.10'],
    arch: 'x64',
    cpu: { model: 'test cpu', cores: shape.cores ?? 4 },
    ram: { freeMb, usedMb: totalMb - freeMb, totalMb },
    load: { m1: shape.load ?? 0.2, m5: shape.load ?? 0.2, m15: shape.load ?? 0.2 },
    uptimeSec: 1000,
    ...(shape.cpuBusyPercent === undefined ? {} : { cpuBusyPercent: shape.cpuBusyPercent }),
    ...(shape.disk === undefined ? {} : { disk: shape.disk }),
    runtimes: shape.runtimes ?? ['docker'],
    deployments: shape.deployments ?? [],
    ...(shape.working === undefined ? {} : { working: shape.working }),
    ...(shape.failoverBuilds === undefined ? {} : { failoverBuilds: shape.failoverBuilds }),
    ...(shape.isolation === undefined ? {} : { isolation: shape.isolation }),
    protocolVersion: 1,
    ...(shape.dockerHealthy === undefined ? {} : { dockerHealthy: shape.dockerHealthy }),
  };
}

/** A stored deployment record, running on `node-a` with nothing reported yet; a test says what differs. */
export function deploymentRecord(patch: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id: 'hello-1',
    srcUrl: 'https://git.lan/hello.git',
    branch: 'main',
    commit: null,
    version: null,
    port: null,
    nodeId: 'node-a',
    status: DeploymentStatus.Running,
    statusMessage: null,
    placementReason: null,
    env: {},
    watch: false,
    runtime: 'docker',
    memoryMb: null,
    attempt: 1,
    createdAt: '2025-11-25T12:00:00.000Z',
    updatedAt: '2025-11-25T12:00:00.000Z',
    cpuPercent: null,
    memMb: null,
    maxMemMb: null,
    imageSizeMb: null,
    statsAt: null,
    url: null,
    name: null,
    restarts: null,
    readiness: null,
    removedAt: null,
    ...patch,
  };
}
