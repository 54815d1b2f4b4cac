import http from 'node:http';
import https from 'node:https';

/** What an orchestrator's `/ping` told us. */
export interface PingAnswer {
  clusterId: string | undefined;
  protocolVersion: string | undefined;
}

export interface PingOptions {
  timeoutMs: number;
  /** Source address (the scanned interface's), so the probe leaves by that interface. */
  localAddress?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Ask over TLS (agents that serve the cluster CA's certificates). The certificate is not checked
   * here: /ping tells nothing secret, and joining verifies the leader by the token's CA digest.
   */
  secure?: boolean | undefined;
}

/** Headers the orchestrator's /ping may send; older orchestrators answer plain `pong`. */
export const pingHeaders = {
  clusterId: 'x-kraken-cluster-id',
  protocolVersion: 'x-kraken-protocol',
} as const;

const maxBodyBytes = 64;

function header(response: http.IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;
}

/**
 * GET http(s)://address:port/ping; resolves the answer when it is HTTP 200 with body `pong`, and
 * undefined for anything else (refused, timed out, another server). Never rejects.
 */
export function probePing(address: string, port: number, options: PingOptions): Promise<PingAnswer | undefined> {
  const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal === undefined ? [] : [options.signal])];
  return new Promise((resolve) => {
    const request = (options.secure === true ? https : http).get(
      {
        ...(options.secure === true ? { rejectUnauthorized: false } : {}),
        host: address,
        port,
        path: '/ping',
        agent: false,
        signal: AbortSignal.any(signals),
        headers: { accept: 'text/plain' },
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > maxBodyBytes) response.destroy();
        });
        response.on('error', () => {
          resolve(undefined);
        });
        response.on('end', () => {
          const isPong = response.statusCode === 200 && body.trim() === 'pong';
          resolve(
            isPong
              ? {
                  clusterId: header(response, pingHeaders.clusterId),
                  protocolVersion: header(response, pingHeaders.protocolVersion),
                }
              : undefined,
          );
        });
        response.on('close', () => {
          resolve(undefined); // destroyed before 'end': too long or aborted (a no-op once resolved)
        });
      },
    );
    request.on('error', () => {
      resolve(undefined);
    });
  });
}
