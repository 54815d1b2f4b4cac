import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, KrakenError } from '@kraken/common';
import { PROTOCOL_VERSION } from '@kraken/messages';
import { joinCluster, joinWhenReachable } from './join-cluster.js';

const grant = { clusterId: 'home-lab', brokerUrl: 'amqp://pi:pw@10.0.0.1:5672', orchestratorNodeId: 'leader', epoch: 3, protocolVersion: PROTOCOL_VERSION };
const notLeader = { error: { code: 'UNAVAILABLE', message: 'leader no longer leads this cluster; ask again in a few seconds', details: { notLeader: true } } };

let server: Server;
let url: string;
/** What the orchestrator answers each join, in order; the last one repeats. */
let answers: { status: number; body: unknown }[];
let asked: number;

beforeEach(async () => {
  asked = 0;
  server = createServer((_req, res) => {
    const answer = answers[Math.min(asked, answers.length - 1)] ?? { status: 500, body: {} };
    asked++;
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('joining a cluster', () => {
  it('asks again when the orchestrator answers that it no longer leads, and joins once it does', async () => {
    answers = [
      { status: 503, body: notLeader },
      { status: 503, body: notLeader },
      { status: 200, body: grant },
    ];
    const waits: string[] = [];
    const joined = await joinWhenReachable({ url, token: 't', nodeId: 'pi' }, { patienceMs: 30_000, onWaiting: (error) => waits.push(error.message) });
    expect(joined).toMatchObject({ orchestratorNodeId: 'leader', epoch: 3 });
    expect(asked).toBe(3);
    expect(waits[0]).toBe(`the orchestrator at ${url} did not accept the join: leader no longer leads this cluster; ask again in a few seconds`);
  });

  it('takes any other refusal as final', async () => {
    answers = [{ status: 503, body: { error: { code: 'UNAVAILABLE', message: 'the broker is down' } } }];
    const failure = await joinWhenReachable({ url, token: 't', nodeId: 'pi' }, { patienceMs: 30_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KrakenError);
    expect((failure as KrakenError).code).toBe(ErrorCode.Unavailable);
    expect(asked).toBe(1);
    await expect(joinCluster({ url, token: 't', nodeId: 'pi' })).rejects.toThrow('did not accept the join: the broker is down');
  });
});
