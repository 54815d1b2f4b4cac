import { parseJoinAnswer } from './join.js';

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
