import { createServer } from 'node:net';
import { ErrorCode } from '@kraken/common';
import { DeployStep, deployError } from './errors.js';

/** Binds like the app will (every interface); resolves the bound port, rejects with the listen error. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error(`unexpected listen address ${String(address)}`));
      });
    });
  });
}

/**
 * A port that is free now, chosen by the kernel. Another program could take it before the app
 * binds it; the ready check then fails with the app's own "address in use" output.
 */
export function pickFreePort(): Promise<number> {
  return listenOnce(0);
}

/** Fails fast with a clear Conflict when the requested port is taken, rather than an app that crashes on listen. */
export async function assertPortFree(port: number, deploymentId: string): Promise<void> {
  try {
    await listenOnce(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return; // anything else (permissions...) is the app's to report
    throw deployError(ErrorCode.Conflict, `host port ${port} is already in use on this node; choose another port or stop what uses it`, {
      deploymentId,
      step: DeployStep.Run,
      details: { hostPort: port },
      cause: error,
    });
  }
}
