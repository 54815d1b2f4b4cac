import { parseJoinAnswer, parseJoinRequest, protocolMajor } from './join.js';

const answer = {
  clusterId: 'home-lab',
  brokerUrl: 'amqp://node-b:secret@10.0.0.5:5672',
  orchestratorNodeId: 'node-a',
  epoch: 3,
  protocolVersion: 1,
};

describe('parseJoinAnswer', () => {
  it('accepts what an orchestrator answers, with or without the broker membership parts', () => {
    expect(parseJoinAnswer(answer)).toEqual({ ok: true, value: answer });
    const member = {
      ...answer,
      brokerCluster: { cookie: 'c00kie', adminPassword: 'pw', seedNode: 'kraken-n1@10.0.0.5' },
      brokerEndpoints: ['10.0.0.5:5672', '10.0.0.6:5672'],
    };
    expect(parseJoinAnswer(member)).toEqual({ ok: true, value: member });
  });

  it('names the first field that is missing or wrong', () => {
    const { brokerUrl: _dropped, ...withoutUrl } = answer;
    const missing = parseJoinAnswer(withoutUrl);
    expect(missing.ok).toBe(false);
    if (!missing.ok)
      expect(missing.error).toMatchObject({
        field: 'brokerUrl',
        message: expect.stringMatching(/^brokerUrl: missing/) as unknown,
      });
    const negative = parseJoinAnswer({ ...answer, epoch: -1 });
    expect(negative.ok || negative.error.field).toBe('epoch');
  });

  it('refuses an answer that is not an object', () => {
    const result = parseJoinAnswer('<html>proxy error</html>');
    expect(result.ok || result.error.message).toMatch(/^answer: expected object/);
  });
});

describe('parseJoinRequest', () => {
  const request = { token: 'join-token', nodeId: 'pi-4', protocolVersion: 1 };

  it('reads what a node sends, its protocol version as the major', () => {
    expect(parseJoinRequest(request)).toEqual({ ok: true, value: request });
    expect(parseJoinRequest({ ...request, protocolVersion: '1.3', brokerNode: true })).toEqual({ ok: true, value: { ...request, brokerNode: true } });
  });

  it.each([
    ['no object', ['join-token'], undefined, /^join request: /],
    ['an empty token', { ...request, token: '' }, 'token', /^token: expected a non-empty string/],
    ['a node id that names a path', { ...request, nodeId: '../etc' }, 'nodeId', /^nodeId: expected an id/],
    ['no protocol version', { token: 'join-token', nodeId: 'pi-4' }, 'protocolVersion', /^protocolVersion: expected the node's protocol version/],
    ['a protocol version of 0', { ...request, protocolVersion: 0 }, 'protocolVersion', /, got 0$/],
    ['a fractional protocol version', { ...request, protocolVersion: 1.5 }, 'protocolVersion', /, got 1.5$/],
    ['a brokerNode that is no boolean', { ...request, brokerNode: 'yes' }, 'brokerNode', /^brokerNode: expected true or false/],
  ])('refuses %s, naming the field', (_what, candidate, field, message) => {
    const parsed = parseJoinRequest(candidate);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.field).toBe(field);
      expect(parsed.error.message).toMatch(message);
    }
  });
});

describe('protocolMajor', () => {
  it('reads an integer or a version string as its major, and nothing else', () => {
    expect([1, 3, '2', '2.1', ' 4.0.1 '].map(protocolMajor)).toEqual([1, 3, 2, 2, 4]);
    expect([0, -1, 1.5, '', 'one', '1.2.3.4', '0.9', null, undefined, {}].map(protocolMajor)).toEqual(Array.from({ length: 10 }, () => undefined));
  });
});
