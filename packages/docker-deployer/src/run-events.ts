import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import { DeployStep, memoryLimitCause } from '@kraken/runtime';
import type { AppRunEvent, RunWatcher } from '@kraken/runtime';
import { mapEngineError } from './errors.js';
import { Label, labelFilters } from './labels.js';

/** The fields of a Docker container event this module reads. */
interface EngineEvent {
  Action?: string;
  timeNano?: number;
  time?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * Docker's event for a container of this node's apps as an AppRunEvent, or undefined for anything
 * else. A `die` carries the exit code; Docker gives no signal, only 128 + its number. `outOfMemory`:
 * the engine reported an `oom` for the container before it died, so the exit was the memory limit.
 */
export function runEventOf(event: EngineEvent, outOfMemory = false): AppRunEvent | undefined {
  const attributes = event.Actor?.Attributes ?? {};
  const deploymentId = attributes[Label.Deployment];
  if (deploymentId === undefined) return undefined;
  // timeNano exceeds 2^53, so it is rounded to the millisecond, not truncated
  const at = new Date(event.timeNano === undefined ? (event.time ?? 0) * 1000 : Math.round(event.timeNano / 1e6));
  if (event.Action === 'start') return { kind: 'start', deploymentId, at };
  if (event.Action !== 'die') return undefined;
  const code = Number.parseInt(attributes['exitCode'] ?? '', 10);
  const memoryMb = Number.parseInt(attributes[Label.MemoryMb] ?? '', 10);
  return {
    kind: 'exit',
    deploymentId,
    at,
    ...(Number.isInteger(code) ? { code } : {}),
    ...(outOfMemory ? { cause: memoryLimitCause(Number.isInteger(memoryMb) ? memoryMb : undefined) } : {}),
  };
}

/**
 * Pairs Docker's `oom` event with the `die` that follows it: the die alone says only 137. Holds
 * the containers that ran out of memory and have not died yet (a handful at most).
 */
export function runEventReader(): (event: EngineEvent) => AppRunEvent | undefined {
  const outOfMemory = new Set<string>();
  return (event) => {
    const id = event.Actor?.ID;
    if (event.Action === 'oom') {
      if (id !== undefined) outOfMemory.add(id);
      return undefined;
    }
    return runEventOf(event, event.Action === 'die' && id !== undefined && outOfMemory.delete(id));
  };
}

/** Follows the engine's start and die events of this node's app containers. */
export async function watchContainerRuns(docker: Docker, nodeId: string, logger: Logger, listener: (event: AppRunEvent) => void): Promise<RunWatcher> {
  let stream: Readable;
  try {
    stream = (await docker.getEvents({ filters: { type: ['container'], event: ['start', 'die', 'oom'], ...labelFilters(nodeId, 'app') } })) as unknown as Readable;
  } catch (error) {
    throw mapEngineError(error, { deploymentId: '', step: DeployStep.Run, action: 'watch container events' });
  }
  let pending = '';
  const read = runEventReader();
  const deliver = (line: string): void => {
    if (line.trim() === '') return;
    let event: AppRunEvent | undefined;
    try {
      event = read(JSON.parse(line) as EngineEvent);
    } catch (error) {
      logger.warn('unreadable Docker event; ignored', { error });
      return;
    }
    if (event === undefined) return;
    try {
      listener(event);
    } catch (error) {
      logger.warn('run event listener threw; ignored', { deploymentId: event.deploymentId, error });
    }
  };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) deliver(line);
    });
    const end = (): void => {
      resolve();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', (error) => {
      logger.debug('container event stream ended with an error', { error });
      end();
    });
  });
  return {
    stop: () => {
      stream.destroy();
    },
    done,
  };
}
