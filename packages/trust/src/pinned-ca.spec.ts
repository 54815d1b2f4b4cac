import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@kraken/common';
import type { ClusterCa, IssuedCertificate } from './cluster-ca.js';
import { caDigest, createClusterCa, issueCertificate } from './cluster-ca.js';
import { trustedCaAt } from './pinned-ca.js';

/** A loopback server (TLS with `served`, else plain) that counts the requests that reach it. */
async function serve(served: IssuedCertificate | undefined): Promise<{ port: number; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const handler = (_request: http.IncomingMessage, response: http.ServerResponse): void => {
    requests += 1;
    response.end('hello');
  };
  const server = served === undefined ? http.createServer(handler) : https.createServer({ cert: served.chainPem, key: served.keyPem }, handler);
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** GET / over TLS trusting only `caPem`. */
function getTrusting(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, ca: caPem }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => {
        resolve(body);
      });
    }).once('error', reject);
  });
}

describe('trustedCaAt (a joiner verifying the leader by the join token\'s CA digest)', () => {
  let ca: ClusterCa;
  let leaderCert: IssuedCertificate;

  beforeAll(async () => {
    ca = await createClusterCa('pinned');
    leaderCert = await issueCertificate(ca, { commonName: 'leader', names: ['127.0.0.1', 'localhost'] });
  });

  it('returns the CA the leader presents when its digest is the token\'s, and then verified TLS to it works', async () => {
    const server = await serve(leaderCert);
    try {
      const trusted = await trustedCaAt({ host: '127.0.0.1', port: server.port }, caDigest(ca.certPem));
      expect(caDigest(trusted)).toBe(caDigest(ca.certPem));
      expect(server.requests()).toBe(0);
      await expect(getTrusting(server.port, trusted)).resolves.toBe('hello');
    } finally {
      await server.close();
    }
  });

  it('takes the self-signed CA at the end of the chain on first use when the token carries no digest', async () => {
    const server = await serve(leaderCert);
    try {
      const trusted = await trustedCaAt({ host: '127.0.0.1', port: server.port }, undefined);
      expect(caDigest(trusted)).toBe(caDigest(ca.certPem));
      expect(server.requests()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a server whose CA is another cluster\'s, having sent it no request', async () => {
    const impostorCa = await createClusterCa('pinned');
    const server = await serve(await issueCertificate(impostorCa, { commonName: 'leader', names: ['127.0.0.1'] }));
    try {
      const refusal = trustedCaAt({ host: '127.0.0.1', port: server.port }, caDigest(ca.certPem));
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
      await expect(refusal).rejects.toThrow(/presented no certificate authority with the join token's digest/);
      expect(server.requests()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refuses a server that presents the right CA beside a certificate it did not issue', async () => {
    const impostorCa = await createClusterCa('pinned');
    const foreign = await issueCertificate(impostorCa, { commonName: 'leader', names: ['127.0.0.1'] });
    const server = await serve({ ...foreign, chainPem: `${foreign.certPem}\n${ca.certPem}` });
    try {
      await expect(trustedCaAt({ host: '127.0.0.1', port: server.port }, caDigest(ca.certPem))).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
    } finally {
      await server.close();
    }
  });

  it('refuses a server that does not speak TLS as Unauthorized, and one not listening as unreachable', async () => {
    const plain = await serve(undefined);
    try {
      const refusal = trustedCaAt({ host: '127.0.0.1', port: plain.port }, caDigest(ca.certPem));
      await expect(refusal).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
      await expect(refusal).rejects.toThrow(/does not speak TLS/);
      expect(plain.requests()).toBe(0);
    } finally {
      await plain.close();
    }
    await expect(trustedCaAt({ host: '127.0.0.1', port: plain.port }, caDigest(ca.certPem))).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      details: { unreachable: true },
    });
  });
});
