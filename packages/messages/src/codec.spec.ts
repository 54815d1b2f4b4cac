import { ErrorCode, KrakenError } from '@kraken/common';
import type { Result } from '@kraken/common';
import { seededRandom } from '@kraken/common';
import { fixtureBytes, fixtureDocument } from '../test/fixtures.js';
import { deployStatusBodySchema } from './bodies.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decode, encode } from './codec.js';
import { DecodeError, DecodeFailure } from './decode-error.js';
import type { Message } from './messages.js';
import { MessageType } from './message-type.js';

function expectFailure(result: Result<Message, DecodeError>, reason: DecodeFailure, field?: string): DecodeError {
  if (result.ok) throw new Error(`expected ${reason}, but decoded a ${result.value.type}`);
  expect(result.error).toBeInstanceOf(DecodeError);
  expect(result.error).toBeInstanceOf(KrakenError);
  expect(result.error.reason).toBe(reason);
  expect(result.error.field).toBe(field);
  if (field !== undefined) expect(result.error.message).toContain(field);
  return result.error;
}

function expectDecoded(result: Result<Message, DecodeError>): Message {
  if (!result.ok) throw result.error;
  return result.value;
}

/** A fixture with one change applied to its parsed JSON, serialised again. */
function mutated(type: MessageType, change: (document: Record<string, unknown>, body: Record<string, unknown>) => void): string {
  const document = fixtureDocument(type);
  change(document, document.body as Record<string, unknown>);
  return JSON.stringify(document);
}

describe('decode', () => {
  it('accepts a Buffer, a plain Uint8Array and a string alike', () => {
    const bytes = fixtureBytes(MessageType.DeployStatus);
    const fromBuffer = expectDecoded(decode(bytes));
    expect(expectDecoded(decode(new Uint8Array(bytes)))).toEqual(fromBuffer);
    expect(expectDecoded(decode(bytes.toString('utf8')))).toEqual(fromBuffer);
  });

  describe('input that is not JSON', () => {
    it('rejects random garbage bytes as not-json', () => {
      const random = seededRandom(7);
      const garbage = Buffer.from(Array.from({ length: 512 }, () => Math.floor(random() * 256)));
      expectFailure(decode(garbage), DecodeFailure.NotJson);
    });

    it.each([
      ['an empty Buffer', Buffer.alloc(0)],
      ['an empty string', ''],
      ['whitespace', '  \n\t '],
    ])('rejects %s as not-json', (_label, input) => {
      const error = expectFailure(decode(input), DecodeFailure.NotJson);
      expect(error.code).toBe(ErrorCode.DecodeFailed);
    });

    it('rejects truncated JSON as not-json', () => {
      const bytes = fixtureBytes(MessageType.DeployRequest);
      expectFailure(decode(bytes.subarray(0, Math.floor(bytes.length / 2))), DecodeFailure.NotJson);
    });

    it('rejects invalid UTF-8 as not-json, even inside an otherwise valid message', () => {
      const text = fixtureBytes(MessageType.DeployCancel).toString('latin1');
      const at = text.indexOf('cancelled by user');
      const bytes = Buffer.from(text, 'latin1');
      bytes[at] = 0xff; // never valid in UTF-8
      const error = expectFailure(decode(bytes), DecodeFailure.NotJson);
      expect(error.message).toMatch(/UTF-8/);
    });

    it('rejects a value that is neither bytes nor a string (untyped callers)', () => {
      expectFailure(decode(42 as unknown as string), DecodeFailure.NotJson);
    });
  });

  describe('JSON that is not an envelope', () => {
    it.each([
      ['an array', '[]', 'an array of 0 items'],
      ['a number', '42', '42'],
      ['null', 'null', 'null'],
      ['a string', '"node.info"', '"node.info"'],
      ['a boolean', 'true', 'true'],
    ])('rejects %s as not-envelope', (_label, input, got) => {
      const error = expectFailure(decode(input), DecodeFailure.NotEnvelope);
      expect(error.message).toBe(`expected a JSON object envelope, got ${got}`);
    });

    it.each(['v', 'type', 'id', 'at', 'from', 'epoch', 'body'])('rejects an envelope without `%s`, naming it', (field) => {
      const input = mutated(MessageType.DeployStop, (document) => {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
        delete document[field];
      });
      const error = expectFailure(decode(input), DecodeFailure.NotEnvelope, field);
      expect(error.message).toContain(`${field}: missing`);
    });

    it.each([
      ['id', 'not-a-uuid', 'id: expected a UUID, got "not-a-uuid"'],
      ['at', '25/11/2025 21:05', 'at: expected an ISO 8601 UTC time'],
      ['at', '2025-11-25T21:05:00+01:00', 'at: expected an ISO 8601 UTC time'],
      ['from', 'node with spaces', 'from: expected an id of 1-64 characters'],
      ['from', '', 'from: expected an id'],
      ['epoch', -1, 'epoch: expected integer >= 0, got -1'],
      ['epoch', 1.5, 'epoch: expected integer >= 0, got 1.5'],
      ['type', 7, 'type: expected a message type string, got 7'],
    ])('rejects an envelope whose `%s` is %j', (field, value, text) => {
      const input = mutated(MessageType.DeployStop, (document) => {
        document[field] = value;
      });
      const error = expectFailure(decode(input), DecodeFailure.NotEnvelope, field);
      expect(error.message).toContain(text);
    });

    it('rejects a string `v` as a malformed envelope, not as another version', () => {
      const error = expectFailure(
        decode(mutated(MessageType.DeployStop, (document) => (document.v = '1'))),
        DecodeFailure.NotEnvelope,
        'v',
      );
      expect(error.message).toContain('v: expected integer protocol version 1, got "1"');
    });
  });

  describe('protocol version', () => {
    it.each([0, 2, 99])('rejects v=%i as unsupported-version, naming both versions', (v) => {
      const error = expectFailure(
        decode(mutated(MessageType.NodeInfo, (document) => (document.v = v))),
        DecodeFailure.UnsupportedVersion,
        'v',
      );
      expect(error.code).toBe(ErrorCode.UnsupportedVersion);
      expect(error.message).toBe(`v: protocol version ${v} is not supported (this node speaks version 1)`);
      expect(error.details).toMatchObject({ version: v, supported: 1 });
    });

    it('reports the version before anything else, since another version may shape the envelope differently', () => {
      const error = expectFailure(decode('{"v":2,"kind":"something-new"}'), DecodeFailure.UnsupportedVersion, 'v');
      expect(error.message).toContain('version 2');
    });
  });

  describe('message type', () => {
    it('rejects an unknown type as unknown-type, naming it and the known ones', () => {
      const input = mutated(MessageType.DeployStop, (document) => (document.type = 'deploy.explode'));
      const error = expectFailure(decode(input), DecodeFailure.UnknownType, 'type');
      expect(error.message).toContain('"deploy.explode"');
      expect(error.message).toContain(MessageType.DeployStop);
      expect(error.details).toMatchObject({ messageId: fixtureDocument(MessageType.DeployStop).id });
    });

    it('rejects a body that belongs to another type as invalid-body', () => {
      const input = mutated(MessageType.DeployStop, (document) => (document.type = MessageType.DeployStats));
      expectFailure(decode(input), DecodeFailure.InvalidBody, 'body.cpuPercent');
    });
  });

  describe('invalid bodies', () => {
    type Body = Record<string, unknown>;
    const cases: [string, MessageType, (body: Body) => void, string, string][] = [
      ['a port that is a string', MessageType.DeployRequest, (b) => (b.port = 'abc'), 'body.port', 'expected integer 1..65535, got "abc"'],
      ['a port above 65535', MessageType.DeployRequest, (b) => (b.port = 70000), 'body.port', 'expected integer 1..65535, got 70000'],
      ['port 0', MessageType.DeployRequest, (b) => (b.port = 0), 'body.port', 'expected integer 1..65535, got 0'],
      ['a fractional port', MessageType.DeployRequest, (b) => (b.port = 80.5), 'body.port', 'expected integer 1..65535, got 80.5'],
      ['an env name starting with a digit', MessageType.DeployRequest, (b) => (b.env = { OK: '1', '1BAD': 'x' }), 'body.env["1BAD"]', '"1BAD" is not a valid variable name (letters, digits and _, not starting with a digit, at most 256 characters)'],
      ['an env name with a dash', MessageType.DeployRequest, (b) => (b.env = { 'MY-VAR': 'x' }), 'body.env["MY-VAR"]', '"MY-VAR" is not a valid variable name'],
      ['an env value with a NUL byte', MessageType.DeployRequest, (b) => (b.env = { A: 'x\0y' }), 'body.env.A', 'contains a NUL byte'],
      ['an env value that is not a string', MessageType.DeployRequest, (b) => (b.env = { PORT: 8080 }), 'body.env.PORT', 'expected a string of at most 65536 characters, got 8080'],
      ['an ext:: remote (runs commands)', MessageType.DeployRequest, (b) => (b.srcUrl = 'ext::sh -c reboot'), 'body.srcUrl', 'expected a git remote'],
      ['a remote that is a git option', MessageType.DeployRequest, (b) => (b.srcUrl = '--upload-pack=touch'), 'body.srcUrl', 'expected a git remote'],
      ['a branch with ..', MessageType.DeployRequest, (b) => (b.branch = 'feature/../main'), 'body.branch', 'expected a valid git branch name'],
      ['a commit that is not a sha', MessageType.DeployRequest, (b) => (b.commit = 'HEAD~1'), 'body.commit', 'expected a commit sha of 7-64 hex digits, got "HEAD~1"'],
      ['an unknown runtime', MessageType.DeployRequest, (b) => (b.runtime = 'vm'), 'body.runtime', 'expected one of "docker", "process", got "vm"'],
      ['attempt 0', MessageType.DeployRequest, (b) => (b.attempt = 0), 'body.attempt', 'expected integer >= 1, got 0'],
      ['zero cpus', MessageType.DeployRequest, (b) => (b.limits = { cpus: 0 }), 'body.limits.cpus', 'expected number > 0, got 0'],
      ['a deployment id with a slash', MessageType.DeployCancel, (b) => (b.deploymentId = '../etc'), 'body.deploymentId', 'expected an id of 1-64 characters from [A-Za-z0-9._-], got "../etc"'],
      ['an unknown lifecycle action', MessageType.DeployLifecycle, (b) => (b.action = 'pause'), 'body.action', 'expected one of "stop", "start", "restart", got "pause"'],
      ['a lifecycle command without an action', MessageType.DeployLifecycle, (b) => delete b.action, 'body.action', 'expected one of "stop", "start", "restart", got undefined'],
      ['a failover build without a commit', MessageType.DeployPrepare, (b) => delete b.commit, 'body.commit', 'expected commit (required unless forget is true)'],
      ['a failover build of a branch with ..', MessageType.DeployPrepare, (b) => (b.branch = 'a/../b'), 'body.branch', 'expected a valid git branch name'],
      ['a failover build in an unknown state', MessageType.NodeInfo, (b) => ((b.failoverBuilds as Body[]).at(0)!.state = 'done'), 'body.failoverBuilds[0].state', 'expected one of "building", "ready", "failed", got "done"'],
      ['no deployment id', MessageType.DeployStop, (b) => delete b.deploymentId, 'body.deploymentId', 'missing (expected an id'],
      ['an unknown status', MessageType.DeployStatus, (b) => (b.status = 'Exploded'), 'body.status', 'expected one of "DeploymentRequested", "ValidatingDeploymentData"'],
      ['a time that is not ISO', MessageType.DeployStatus, (b) => (b.at = 'yesterday'), 'body.at', 'expected an ISO 8601 UTC time such as 2024-05-01T12:00:00.000Z, got "yesterday"'],
      ['a non-http url', MessageType.DeployStatus, (b) => (b.url = 'javascript:alert(1)'), 'body.url', 'expected an http(s) URL'],
      ['a negative restart count', MessageType.DeployStatus, (b) => (b.restarts = { count: -1, looping: true }), 'body.restarts.count', 'expected integer >= 0, got -1'],
      ['a last exit without a reason', MessageType.DeployStatus, (b) => (b.restarts = { count: 1, looping: true, lastExit: { code: 1, at: '2026-12-06T12:00:03.000Z' } }), 'body.restarts.lastExit.reason', 'missing'],
      ['readiness without a time', MessageType.DeployStatus, (b) => (b.readiness = { ready: false }), 'body.readiness.since', 'missing'],
      ['readiness that is not a boolean', MessageType.DeployStatus, (b) => (b.readiness = { ready: 'no', since: '2026-12-06T12:00:03.000Z' }), 'body.readiness.ready', 'expected a boolean'],
      ['negative cpu', MessageType.DeployStats, (b) => (b.cpuPercent = -3), 'body.cpuPercent', 'expected number >= 0, got -3'],
      ['a seq that is a string', MessageType.DeployLog, (b) => (b.seq = '17'), 'body.seq', 'expected integer >= 0, got "17"'],
      ['no lines', MessageType.DeployLog, (b) => (b.lines = []), 'body.lines', 'expected 1..5000 lines, got an array of 0 items'],
      ['a line with a bad time', MessageType.DeployLog, (b) => ((b.lines as Body[]).at(1)!.at = 'soon'), 'body.lines[1].at', 'expected an ISO 8601 UTC time'],
      ['a line of an unknown stream', MessageType.DeployLog, (b) => ((b.lines as Body[]).at(0)!.stream = 'tty'), 'body.lines[0].stream', 'expected one of "stdout", "stderr", "build", "test", "system", got "tty"'],
      ['an unknown runtime', MessageType.NodeInfo, (b) => (b.runtimes = ['docker', 'kvm']), 'body.runtimes[1]', 'expected one of "docker", "process", got "kvm"'],
      ['an isolation of an unknown user', MessageType.NodeInfo, (b) => (b.isolation = { runsAs: 'root', limits: false }), 'body.isolation.runsAs', 'expected one of "agent", "container", got "root"'],
      ['cpu that is not an object', MessageType.NodeInfo, (b) => (b.cpu = 'arm'), 'body.cpu', 'expected object, got "arm"'],
      ['an extension key with a capital', MessageType.NodeInfo, (b) => (b.extensions = { Temp: 40 }), 'body.extensions.Temp', 'expected an extension key matching ^[a-z][a-zA-Z0-9_.-]{0,63}$, got "Temp"'],
      ['an extension value that is an object', MessageType.NodeInfo, (b) => (b.extensions = { 'temperature.celsius': { max: 40 } }), 'body.extensions["temperature.celsius"]', 'expected a string of at most 256 characters, a finite number or a boolean, got an object'],
      ['more than 32 extensions', MessageType.NodeInfo, (b) => (b.extensions = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]))), 'body.extensions', 'expected at most 32 entries, got 33'],
      ['a cpu busy percent above 100', MessageType.NodeInfo, (b) => (b.cpuBusyPercent = 120), 'body.cpuBusyPercent', 'expected number 0..100, got 120'],
      ['a negative cpu busy percent', MessageType.NodeInfo, (b) => (b.cpuBusyPercent = -1), 'body.cpuBusyPercent', 'expected number 0..100, got -1'],
      ['a cpu busy percent that is a string', MessageType.NodeInfo, (b) => (b.cpuBusyPercent = '50'), 'body.cpuBusyPercent', 'expected number 0..100, got "50"'],
      ['a disk using more than it holds', MessageType.NodeInfo, (b) => (b.disk = { usedMb: 900, totalMb: 800 }), 'body.disk.usedMb', 'expected usedMb <= totalMb'],
      ['a negative disk total', MessageType.NodeInfo, (b) => (b.disk = { usedMb: 0, totalMb: -5 }), 'body.disk.totalMb', 'expected number >= 0, got -5'],
      ['a disk without its total', MessageType.NodeInfo, (b) => (b.disk = { usedMb: 10 }), 'body.disk.totalMb', 'missing'],
      ['extensions that are an array', MessageType.NodeInfo, (b) => (b.extensions = ['hot']), 'body.extensions', 'expected an object of extension values, got an array of 1 item'],
    ];

    it.each(cases)('rejects %s (%s) as invalid-body, naming the field', (_label, type, change, field, text) => {
      const error = expectFailure(decode(mutated(type, (_document, body) => {
        change(body);
      })), DecodeFailure.InvalidBody, field);
      expect(error.code).toBe(ErrorCode.DecodeFailed);
      expect(error.message).toContain(`invalid ${type} body: ${field}: ${text}`);
    });

    it('rejects a body that is not an object', () => {
      const error = expectFailure(
        decode(mutated(MessageType.DeployStop, (document) => (document.body = ['x']))),
        DecodeFailure.InvalidBody,
        'body',
      );
      expect(error.message).toContain('body: expected object, got an array of 1 item');
    });

    it('counts the other problems without listing them', () => {
      const input = mutated(MessageType.DeployStats, (_document, body) => {
        body.cpuPercent = -1;
        body.memMb = -1;
        body.maxMemMb = -1;
      });
      const error = expectFailure(decode(input), DecodeFailure.InvalidBody, 'body.cpuPercent');
      expect(error.message).toMatch(/\(and 2 more problems\)$/);
    });

    it('carries the message id, type and deployment id for dead-letter reports', () => {
      const document = fixtureDocument(MessageType.DeployRequest);
      const input = mutated(MessageType.DeployRequest, (_document, body) => (body.port = -1));
      const error = expectFailure(decode(input), DecodeFailure.InvalidBody, 'body.port');
      expect(error.deploymentId).toBe('todo-api.2');
      expect(error.details).toMatchObject({ reason: 'invalid-body', field: 'body.port', type: 'deploy.request', messageId: document.id });
    });

    it('does not copy an invalid deployment id into the error', () => {
      const input = mutated(MessageType.DeployCancel, (_document, body) => (body.deploymentId = 'evil\nid'));
      const error = expectFailure(decode(input), DecodeFailure.InvalidBody, 'body.deploymentId');
      expect(error.deploymentId).toBeUndefined();
    });

    it('keeps the error short when the offending value is huge', () => {
      const huge = 'x'.repeat(500_000);
      const input = mutated(MessageType.DeployRequest, (_document, body) => (body.branch = `..${huge}`));
      const error = expectFailure(decode(input), DecodeFailure.InvalidBody, 'body.branch');
      expect(error.message).toMatch(/got "\.\.x{98}…"$/);
      expect(JSON.stringify(error.toJSON()).length).toBeLessThan(600);
    });

    it('keeps the field path short when the offending key is huge', () => {
      const hugeKey = `9${'x'.repeat(500_000)}`;
      const input = mutated(MessageType.DeployRequest, (_document, body) => (body.env = { [hugeKey]: 'v' }));
      const result = decode(input);
      const error = expectFailure(result, DecodeFailure.InvalidBody, (result.ok ? undefined : result.error.field) ?? 'no field');
      expect(error.field).toMatch(/^body\.env\["9x+…/);
      expect(error.field!.length).toBeLessThan(220);
      expect(error.message.length).toBeLessThan(600);
    });
  });

  describe('unknown fields (forward compatibility)', () => {
    it('strips unknown fields from the envelope and the body instead of rejecting them', () => {
      const input = mutated(MessageType.DeployRequest, (document, body) => {
        document.traceId = 'abc';
        body.priority = 'high';
        body.limits = { memoryMb: 256, gpus: 1 };
      });
      const message = expectDecoded(decode(input));
      expect(message).not.toHaveProperty('traceId');
      expect(message.body).not.toHaveProperty('priority');
      expect(message.body).toHaveProperty('limits', { memoryMb: 256 });
    });

    it('decodes node.info extensions from a newer worker, and node.info without them from an older one', () => {
      const extensions = { 'temperature.celsius': 47.5, 'temperature.zone': 'x86_pkg_temp', 'backup.ok': true };
      const withExtensions = expectDecoded(decode(mutated(MessageType.NodeInfo, (_document, body) => (body.extensions = extensions))));
      expect(withExtensions.type === MessageType.NodeInfo && withExtensions.body.extensions).toEqual(extensions);
      const without = expectDecoded(decode(fixtureBytes(MessageType.NodeInfo)));
      expect(without.body).not.toHaveProperty('extensions');
      expect(without.v).toBe(1);
    });

    it('decodes node.info CPU busy percent and disk from a newer worker, and node.info without them from an older one', () => {
      const decoded = expectDecoded(
        decode(
          mutated(MessageType.NodeInfo, (_document, body) => {
            body.cpuBusyPercent = 37.5;
            body.disk = { usedMb: 1200, totalMb: 30000 };
          }),
        ),
      );
      expect(decoded.type === MessageType.NodeInfo && [decoded.body.cpuBusyPercent, decoded.body.disk]).toEqual([37.5, { usedMb: 1200, totalMb: 30000 }]);
      const without = expectDecoded(decode(fixtureBytes(MessageType.NodeInfo)));
      expect(without.body).not.toHaveProperty('cpuBusyPercent');
      expect(without.body).not.toHaveProperty('disk');
    });

    it('decodes a Running status with restarts from a newer worker, and one without them from an older one', () => {
      const restarts = { count: 3, looping: true, lastExit: { code: 1, at: '2026-12-06T12:00:03.000Z', reason: 'exited with code 1 after 3.0 s' } };
      const withRestarts = expectDecoded(decode(mutated(MessageType.DeployStatus, (_document, body) => (body.restarts = restarts))));
      expect(withRestarts.type === MessageType.DeployStatus && withRestarts.body.restarts).toEqual(restarts);
      const without = expectDecoded(decode(fixtureBytes(MessageType.DeployStatus)));
      expect(without.body).not.toHaveProperty('restarts');
    });

    it('leaves a status with restarts readable by an orchestrator whose schema has none (it strips them)', () => {
      const body = { ...(fixtureDocument(MessageType.DeployStatus).body as Record<string, unknown>), restarts: { count: 1, looping: true } };
      const parsed = deployStatusBodySchema.omit({ restarts: true }).safeParse(body);
      expect(parsed.success).toBe(true);
      expect(parsed.data).not.toHaveProperty('restarts');
    });

    it('decodes a status with readiness from a newer worker, and one without it from an older one', () => {
      const readiness = { ready: false, since: '2026-12-06T12:00:03.000Z', reason: 'not answering on port 20001 for 15 s (3 checks)' };
      const withReadiness = expectDecoded(decode(mutated(MessageType.DeployStatus, (_document, body) => (body.readiness = readiness))));
      expect(withReadiness.type === MessageType.DeployStatus && withReadiness.body.readiness).toEqual(readiness);
      const without = expectDecoded(decode(mutated(MessageType.DeployStatus, (_document, body) => delete body.readiness)));
      expect(without.body).not.toHaveProperty('readiness');
    });

    it('leaves a status with readiness readable by an orchestrator whose schema has none (it strips it)', () => {
      const body = fixtureDocument(MessageType.DeployStatus).body as Record<string, unknown>;
      expect(body).toHaveProperty('readiness');
      const parsed = deployStatusBodySchema.omit({ readiness: true }).safeParse(body);
      expect(parsed.success).toBe(true);
      expect(parsed.data).not.toHaveProperty('readiness');
    });

    it('fills defaults an older sender left out', () => {
      const input = mutated(MessageType.DeployRequest, (_document, body) => delete body.attempt);
      const message = expectDecoded(decode(input));
      expect(message.type === MessageType.DeployRequest && message.body.attempt).toBe(1);
    });
  });

  describe('size limit', () => {
    it('rejects a message over a custom maxBytes as too-large', () => {
      const bytes = fixtureBytes(MessageType.DeployLog);
      const error = expectFailure(decode(bytes, { maxBytes: 100 }), DecodeFailure.TooLarge);
      expect(error.code).toBe(ErrorCode.PayloadTooLarge);
      expect(error.message).toBe(`message is ${bytes.length} bytes, over the 100-byte limit`);
      expect(error.details).toMatchObject({ bytes: bytes.length, maxBytes: 100 });
    });

    it('accepts a message of exactly maxBytes and rejects one byte less', () => {
      const bytes = encode(expectDecoded(decode(fixtureBytes(MessageType.DeployLog))));
      expectDecoded(decode(bytes, { maxBytes: bytes.length }));
      expectFailure(decode(bytes, { maxBytes: bytes.length - 1 }), DecodeFailure.TooLarge);
    });

    it('rejects input over the 1 MiB default before parsing it (garbage reports too-large, not not-json)', () => {
      const oversized = Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES + 1, '{');
      expectFailure(decode(oversized), DecodeFailure.TooLarge);
      expectFailure(decode(oversized.toString('latin1')), DecodeFailure.TooLarge);
      expectFailure(decode(Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES, '{')), DecodeFailure.NotJson);
    });

    it('measures a string in UTF-8 bytes, not in characters', () => {
      const twoByteChars = 'é'.repeat(60);
      const input = `"${twoByteChars}"`;
      expect(input.length).toBeLessThan(100);
      expectFailure(decode(input, { maxBytes: 100 }), DecodeFailure.TooLarge);
      expectFailure(decode(input, { maxBytes: 200 }), DecodeFailure.NotEnvelope);
    });

    it('refuses a maxBytes that is not a positive integer (a programming error, so it throws)', () => {
      expect(() => decode('{}', { maxBytes: 0 })).toThrow(/maxBytes: expected a positive integer, got 0/);
      expect(() => decode('{}', { maxBytes: Number.NaN })).toThrow(KrakenError);
    });
  });
});

describe('encode', () => {
  const request = (): Message => expectDecoded(decode(fixtureBytes(MessageType.DeployRequest)));

  it('writes compact UTF-8 JSON', () => {
    const bytes = encode(request());
    expect(bytes).toBeInstanceOf(Buffer);
    expect(bytes.toString('utf8')).not.toMatch(/\n/);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(fixtureDocument(MessageType.DeployRequest));
  });

  it('refuses an invalid message with InvalidInput naming the field', () => {
    const message = request();
    const broken = { ...message, body: { ...message.body, port: 0 } } as Message;
    expect(() => encode(broken)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidInput,
        message: 'cannot encode deploy.request message: body.port: expected integer 1..65535, got 0',
        deploymentId: 'todo-api.2',
      }) as Error,
    );
  });

  it('refuses a message of an unknown type', () => {
    const broken = { ...request(), type: 'deploy.explode' } as unknown as Message;
    expect(() => encode(broken)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, details: { field: 'type' } }) as Error);
    expect(() => encode(null as unknown as Message)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput }) as Error);
  });

  it('refuses a message over maxBytes with PayloadTooLarge', () => {
    expect(() => encode(request(), { maxBytes: 64 })).toThrow(
      expect.objectContaining({ code: ErrorCode.PayloadTooLarge, message: expect.stringMatching(/over the 64-byte limit$/) as string }) as Error,
    );
  });

  it('refuses a message over the 1 MiB default', () => {
    const log = expectDecoded(decode(fixtureBytes(MessageType.DeployLog)));
    if (log.type !== MessageType.DeployLog) throw new Error('fixture is not a log');
    const line = { stream: 'stdout' as const, text: 'y'.repeat(16_000), at: '2025-11-25T21:06:29.900Z' };
    const big = { ...log, body: { ...log.body, lines: Array.from({ length: 70 }, () => line) } };
    expect(() => encode(big)).toThrow(expect.objectContaining({ code: ErrorCode.PayloadTooLarge }) as Error);
    expect(encode(big, { maxBytes: 2 * DEFAULT_MAX_MESSAGE_BYTES }).length).toBeGreaterThan(DEFAULT_MAX_MESSAGE_BYTES);
  });

  it('drops fields the schema does not know, so what it writes is what a peer reads', () => {
    const message = { ...request(), extra: true } as unknown as Message;
    expect(JSON.parse(encode(message).toString('utf8'))).not.toHaveProperty('extra');
  });
});
