import { ErrorCode, KrakenError } from '@kraken/common';
import { fixtureDocument } from '../test/fixtures.js';
import { decode, encode } from './codec.js';
import { PROTOCOL_VERSION } from './envelope.js';
import { createMessage, messageSchema, messageSchemas, validateBody } from './messages.js';
import type { BodyOf } from './messages.js';
import { MessageType } from './message-type.js';
import { DeploymentStatus } from './status.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function thrown(action: () => unknown): KrakenError {
  try {
    action();
  } catch (error) {
    if (error instanceof KrakenError) return error;
    throw error;
  }
  throw new Error('expected a KrakenError to be thrown');
}

describe('createMessage', () => {
  it('fills v, a random uuid id, the current time and epoch 0', () => {
    const before = Date.now();
    const first = createMessage(MessageType.DeployStop, { deploymentId: 'blog-7f3a' }, { from: 'mini-pc' });
    const second = createMessage(MessageType.DeployStop, { deploymentId: 'blog-7f3a' }, { from: 'mini-pc' });
    expect(first).toEqual({
      v: PROTOCOL_VERSION,
      type: 'deploy.stop',
      id: expect.stringMatching(UUID) as string,
      at: expect.any(String) as string,
      from: 'mini-pc',
      epoch: 0,
      body: { deploymentId: 'blog-7f3a' },
    });
    expect(second.id).not.toBe(first.id);
    const at = Date.parse(first.at);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('uses the id, time and epoch it is given, turning a Date into an ISO string', () => {
    const message = createMessage(
      MessageType.DeployCancel,
      { deploymentId: 'todo-api.2', reason: 'user' },
      { from: 'mini-pc', epoch: 7, id: 'c3a8f1d2-7b6e-4f09-8a15-d4e2b9c6f370', at: new Date(Date.UTC(2025, 10, 25, 21, 5, 12, 500)) },
    );
    expect(message).toMatchObject({ id: 'c3a8f1d2-7b6e-4f09-8a15-d4e2b9c6f370', at: '2025-11-25T21:05:12.500Z', epoch: 7 });
  });

  it('fills body defaults (attempt 1) so the sender may leave them out', () => {
    const message = createMessage(
      MessageType.DeployRequest,
      { deploymentId: 'app-1', srcUrl: 'git@git.home.lan:alice/app.git', branch: 'main' },
      { from: 'mini-pc' },
    );
    expect(message.body.attempt).toBe(1);
  });

  it('takes a deploy.prepare that only forgets, with no source to build', () => {
    const message = createMessage(MessageType.DeployPrepare, { deploymentId: 'app-1', forget: true }, { from: 'mini-pc' });
    expect(message.body).toEqual({ deploymentId: 'app-1', forget: true });
  });

  it('produces messages that encode and decode back unchanged', () => {
    const message = createMessage(
      MessageType.DeployStatus,
      { deploymentId: 'app-1', status: DeploymentStatus.Errored, message: 'npm test failed', at: new Date().toISOString(), nodeId: 'pi-kitchen' },
      { from: 'pi-kitchen', epoch: 2 },
    );
    const decoded = decode(encode(message));
    expect(decoded.ok && decoded.value).toEqual(message);
  });

  it('takes the body of a decoded message as it is (BodyOf is accepted where a body is expected)', () => {
    const decoded = decode(JSON.stringify(fixtureDocument(MessageType.DeployLog)));
    if (!decoded.ok || decoded.value.type !== MessageType.DeployLog) throw new Error('fixture did not decode');
    const body: BodyOf<typeof MessageType.DeployLog> = decoded.value.body;
    const copy = createMessage(MessageType.DeployLog, body, { from: decoded.value.from, epoch: decoded.value.epoch });
    expect(copy.body).toEqual(body);
    expect(copy.body.lines.at(0)?.stream).toBe('system');
  });

  it('rejects an invalid body with InvalidInput, naming the field and the deployment', () => {
    const error = thrown(() =>
      createMessage(
        MessageType.DeployRequest,
        { deploymentId: 'app-1', srcUrl: 'https://git.home.lan/a.git', branch: 'main', port: 99999 },
        { from: 'mini-pc' },
      ),
    );
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toBe('invalid deploy.request message: body.port: expected integer 1..65535, got 99999');
    expect(error.deploymentId).toBe('app-1');
    expect(error.details).toEqual({ type: 'deploy.request', field: 'body.port' });
  });

  it.each([
    ['from', { from: 'mini pc' }, 'from: expected an id'],
    ['epoch', { from: 'mini-pc', epoch: -1 }, 'epoch: expected integer >= 0, got -1'],
    ['id', { from: 'mini-pc', id: '42' }, 'id: expected a UUID, got "42"'],
    ['at', { from: 'mini-pc', at: 'now' }, 'at: expected an ISO 8601 UTC time'],
  ])('rejects invalid meta (%s)', (field, meta, text) => {
    const error = thrown(() => createMessage(MessageType.DeployStop, { deploymentId: 'app-1' }, meta));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.details).toMatchObject({ field });
    expect(error.message).toContain(text);
  });

  it('rejects a leader.info whose broker endpoint is no host:port', () => {
    const error = thrown(() => createMessage(MessageType.LeaderInfo, { nodeId: 'a', apiUrl: 'http://10.0.0.1:4000', brokerEndpoints: ['10.0.0.1'] }, { from: 'a' }));
    expect(error.message).toBe('invalid leader.info message: body.brokerEndpoints[0]: expected host:port (e.g. 192.168.1.20:5673), got "10.0.0.1"');
  });

  it('rejects an invalid Date', () => {
    const error = thrown(() => createMessage(MessageType.DeployStop, { deploymentId: 'app-1' }, { from: 'n', at: new Date(Number.NaN) }));
    expect(error.details).toEqual({ field: 'at' });
  });

  it('rejects an unknown type from an untyped caller', () => {
    const error = thrown(() => createMessage('deploy.explode' as MessageType, { deploymentId: 'app-1' }, { from: 'n' }));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.details).toEqual({ field: 'type' });
  });
});

describe('message schemas', () => {
  it('has a full message schema for every type, and the union accepts every fixture', () => {
    expect(Object.keys(messageSchemas).sort()).toEqual(Object.values(MessageType).sort());
    for (const type of Object.values(MessageType)) {
      const parsed = messageSchema.safeParse(fixtureDocument(type));
      expect(parsed.success && parsed.data.type).toBe(type);
    }
  });

  it('routes a body to the schema of its own type', () => {
    const document = { ...fixtureDocument(MessageType.DeployStats), type: MessageType.DeployStatus };
    expect(messageSchema.safeParse(document).success).toBe(false);
  });
});

describe('validateBody', () => {
  it('accepts a body the receiver would accept, with defaults filled', () => {
    const result = validateBody(MessageType.DeployRequest, {
      deploymentId: 'app-1',
      srcUrl: 'https://git.lan/app.git',
      branch: 'main',
    });
    expect(result).toMatchObject({ ok: true, body: { deploymentId: 'app-1', branch: 'main' } });
  });

  it('names the failing field within the body, with no message wording around it', () => {
    const result = validateBody(MessageType.DeployRequest, {
      deploymentId: 'app-1',
      srcUrl: 'ext::sh -c touch% /tmp/pwned',
      branch: 'main',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.field).toBe('srcUrl');
    expect(result.message).toMatch(/^srcUrl: /);
  });

  it('says when the body itself is not an object', () => {
    expect(validateBody(MessageType.DeployCancel, 'nope')).toEqual({
      ok: false,
      field: undefined,
      message: 'body: expected object, got "nope"',
    });
  });
});
