import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ClusterCa } from './cluster-ca.js';
import { createClusterCa, issueCertificate } from './cluster-ca.js';
import type { SecureListening, ServedIdentity } from './secure-listener.js';
import { listenSecure } from './secure-listener.js';

/** GET / (plain, or TLS trusting `ca` when given): status and body. */
function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? https.get(url, ca === undefined ? {} : { ca }) : http.get(url);
    request.once('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.once('error', reject);
  });
}

describe('listenSecure', () => {
  let ca: ClusterCa;
  let identity: ServedIdentity;
  let server: http.Server;
  let listening: SecureListening | undefined;

  beforeAll(async () => {
    ca = await createClusterCa('listener');
    identity = await issueCertificate(ca, { commonName: 'agent-1', names: ['127.0.0.1', 'localhost'] });
  });

  beforeEach(() => {
    server = http.createServer((request, response) => {
      response.end(`${(request.socket as Partial<TLSSocket>).encrypted === true ? 'tls' : 'plain'} ${request.url ?? ''}`);
    });
  });

  afterEach(async () => {
    server.closeAllConnections();
    await listening?.close();
    listening = undefined;
  });

  it('serves TLS with the cluster certificate and plain HTTP from loopback on one port, both to the same handlers', async () => {
    listening = await listenSecure(server, { port: 0, host: '127.0.0.1', what: 'the API', identity });
    expect(listening.url).toBe(`https://127.0.0.1:${String(listening.address.port)}`);
    const plainUrl = listening.url.replace('https:', 'http:');

    await expect(get(`${listening.url}/graphql`, ca.certPem)).resolves.toEqual({ status: 200, body: 'tls /graphql' });
    await expect(get(`${plainUrl}/ping`)).resolves.toEqual({ status: 200, body: 'plain /ping' });
    // keep-alive and several requests on one TLS connection
    const agent = new https.Agent({ keepAlive: true, ca: ca.certPem });
    for (const path of ['/a', '/b']) {
      const answer = await new Promise<string>((resolve, reject) => {
        https.get(`${listening?.url ?? ''}${path}`, { agent }, (response) => {
          response.setEncoding('utf8');
          let body = '';
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => {
            resolve(body);
          });
        }).once('error', reject);
      });
      expect(answer).toBe(`tls ${path}`);
    }
    agent.destroy();
  });

  it('fails a TLS client that does not trust the cluster CA, and goes on serving others', async () => {
    listening = await listenSecure(server, { port: 0, host: '127.0.0.1', what: 'the API', identity });

    await expect(get(listening.url)).rejects.toThrow(/self.signed|unable to (get|verify)/i);
    await expect(get(listening.url, ca.certPem)).resolves.toMatchObject({ status: 200 });
  });

  it('serves plain HTTP to everyone without an identity (--insecure-no-tls)', async () => {
    listening = await listenSecure(server, { port: 0, host: '127.0.0.1', what: 'the API', identity: undefined });
    expect(listening.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(get(`${listening.url}/x`)).resolves.toEqual({ status: 200, body: 'plain /x' });
  });

  it('names the port clash like any Kraken listener', async () => {
    listening = await listenSecure(server, { port: 0, host: '127.0.0.1', what: 'the API', identity });
    const other = http.createServer();
    await expect(listenSecure(other, { port: listening.address.port, host: '127.0.0.1', what: 'the API', identity })).rejects.toThrow(/the API cannot listen on 127\.0\.0\.1:\d+: another program/);
  });
});
