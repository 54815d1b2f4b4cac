import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ErrorCode } from '@kraken/common';
import { DeployStep, Tail, deployError } from '@kraken/runtime';
import { LineSplitter } from './demux.js';
import { mapEngineError } from './errors.js';

export interface BuildRequest {
  deploymentId: string;
  context: Readable;
  tag: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  timeoutMs: number;
  tailLines: number;
  /** Relative CPU weight of the build's containers (the engine's minimum is 2); unset: the engine's default (1024). */
  cpuShares?: number;
  onLine: (text: string) => void;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Builds an image, streaming output lines; a failed step becomes an error ending with the last lines. */
export async function buildImage(docker: Docker, request: BuildRequest): Promise<{ imageId: string | undefined }> {
  const { deploymentId } = request;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(request.context, {
      t: request.tag,
      dockerfile: request.dockerfile,
      buildargs: request.buildArgs,
      labels: request.labels,
      rm: true,
      // a failed step must not leave its container behind
      forcerm: true,
      ...(request.cpuShares === undefined ? {} : { cpushares: request.cpuShares }),
    });
  } catch (error) {
    request.context.destroy();
    throw mapEngineError(error, { deploymentId, step: DeployStep.Build, action: 'start the image build' });
  }

  const tail = new Tail(request.tailLines);
  const lines = new LineSplitter();
  const emit = (text: string): void => {
    tail.push(text);
    request.onLine(text);
  };

  return new Promise((resolve, reject) => {
    let imageId: string | undefined;
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `the build did not finish within ${Math.round(request.timeoutMs / 1000)} s`;
      destroyStream(stream);
      finish(new Error(failure));
    }, request.timeoutMs);
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const text of lines.flush()) emit(text);
      if (failure !== undefined) {
        const code = error !== null && failure.startsWith('the build did not finish') ? ErrorCode.Timeout : ErrorCode.Internal;
        reject(deployError(code, `image build failed: ${failure}${tail.format()}`, { deploymentId, step: DeployStep.Build, details: { output: tail.lines } }));
      } else if (error !== null) {
        reject(mapEngineError(error, { deploymentId, step: DeployStep.Build, action: 'build the image' }));
      } else {
        resolve({ imageId });
      }
    };
    docker.modem.followProgress(
      stream,
      (error: Error | null) => {
        finish(error);
      },
      (event: BuildEvent) => {
        if (typeof event.stream === 'string') {
          for (const text of lines.push(Buffer.from(event.stream))) emit(text);
        }
        if (event.aux?.ID !== undefined) imageId = event.aux.ID;
        if (event.error !== undefined) failure = event.errorDetail?.message ?? event.error;
      },
    );
  });
}

/** dockerode types the build stream as a bare NodeJS.ReadableStream; at runtime it is an http response. */
function destroyStream(stream: NodeJS.ReadableStream): void {
  (stream as unknown as { destroy?: () => void }).destroy?.();
}
