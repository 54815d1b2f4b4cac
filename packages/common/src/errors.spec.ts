import { ErrorCode, KrakenError, isKrakenError, toKrakenError } from './errors.js';

describe('KrakenError', () => {
  it('carries code, message, subject ids, details and cause', () => {
    const cause = new Error('socket closed');
    const error = new KrakenError(ErrorCode.Unavailable, 'broker unreachable', {
      deploymentId: 'dep-1',
      nodeId: 'pi-kitchen',
      details: { host: 'localhost', port: 5672 },
      cause,
    });

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KrakenError');
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe('broker unreachable');
    expect(error.deploymentId).toBe('dep-1');
    expect(error.nodeId).toBe('pi-kitchen');
    expect(error.details).toEqual({ host: 'localhost', port: 5672 });
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain('broker unreachable');
  });

  it('leaves optional fields undefined and sets no cause when none is given', () => {
    const error = new KrakenError(ErrorCode.NotFound, 'no such app');

    expect(error.deploymentId).toBeUndefined();
    expect(error.nodeId).toBeUndefined();
    expect(error.details).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  describe('toJSON', () => {
    it('gives only name, code and message when nothing else is set', () => {
      expect(new KrakenError(ErrorCode.Conflict, 'name taken').toJSON()).toEqual({
        name: 'KrakenError',
        code: 'CONFLICT',
        message: 'name taken',
      });
    });

    it('includes the optional fields that are set and flattens an Error cause to its message', () => {
      const error = new KrakenError(ErrorCode.Timeout, 'deploy timed out', {
        deploymentId: 'dep-7',
        details: { waitedMs: 30_000 },
        cause: new Error('health check never passed'),
      });

      expect(error.toJSON()).toEqual({
        name: 'KrakenError',
        code: 'TIMEOUT',
        message: 'deploy timed out',
        deploymentId: 'dep-7',
        details: { waitedMs: 30_000 },
        cause: 'health check never passed',
      });
    });

    it('flattens a non-Error cause to its JSON text', () => {
      const error = new KrakenError(ErrorCode.Internal, 'odd failure', { cause: { status: 503 } });

      expect(error.toJSON()['cause']).toBe('{"status":503}');
    });

    it('never contains the stack, so JSON.stringify is safe to send over the wire', () => {
      const error = new KrakenError(ErrorCode.Internal, 'boom', { nodeId: 'n1', cause: new Error('inner') });
      const wire = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;

      expect(wire).toEqual({ name: 'KrakenError', code: 'INTERNAL', message: 'boom', nodeId: 'n1', cause: 'inner' });
      expect(JSON.stringify(error)).not.toContain('at ');
    });
  });
});

describe('toKrakenError', () => {
  it('returns a KrakenError unchanged', () => {
    const original = new KrakenError(ErrorCode.NotFound, 'gone');

    expect(toKrakenError(original, ErrorCode.Unavailable)).toBe(original);
  });

  it('wraps an Error, keeping its message and the original as cause', () => {
    const original = new TypeError('x is not a function');
    const error = toKrakenError(original);

    expect(error).toBeInstanceOf(KrakenError);
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.message).toBe('x is not a function');
    expect(error.cause).toBe(original);
  });

  it('uses the fallback code given by the caller', () => {
    expect(toKrakenError(new Error('refused'), ErrorCode.Unavailable).code).toBe('UNAVAILABLE');
    expect(toKrakenError('refused', ErrorCode.Unavailable).code).toBe('UNAVAILABLE');
  });

  it('uses a thrown string as the message', () => {
    const error = toKrakenError('disk full');

    expect(error.message).toBe('disk full');
    expect(error.cause).toBe('disk full');
  });

  it('describes a thrown object by its JSON', () => {
    const thrown = { code: 'ECONNRESET', retry: true };
    const error = toKrakenError(thrown);

    expect(error.message).toBe('non-error thrown: {"code":"ECONNRESET","retry":true}');
    expect(error.cause).toBe(thrown);
  });

  it('does not throw on a circular object and still keeps it as cause', () => {
    const thrown: Record<string, unknown> = { name: 'loop' };
    thrown['self'] = thrown;
    const error = toKrakenError(thrown);

    expect(error.message).toBe('non-error thrown: [object Object]');
    expect(error.cause).toBe(thrown);
    expect(error.toJSON()['cause']).toBe('[object Object]');
  });

  it('describes undefined and has no cause', () => {
    const error = toKrakenError(undefined);

    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.message).toBe('non-error thrown: undefined');
    expect(error.toJSON()).toEqual({ name: 'KrakenError', code: 'INTERNAL', message: 'non-error thrown: undefined' });
  });
});

describe('isKrakenError', () => {
  it('is true for a KrakenError', () => {
    expect(isKrakenError(new KrakenError(ErrorCode.Closed, 'closed'))).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('x')],
    ['an object shaped like one', { name: 'KrakenError', code: 'INTERNAL', message: 'x' }],
    ['a string', 'KrakenError'],
    ['undefined', undefined],
  ])('is false for %s', (_label, value) => {
    expect(isKrakenError(value)).toBe(false);
  });
});

describe('ErrorCode', () => {
  it('maps every name to a distinct SCREAMING_SNAKE code', () => {
    const codes = Object.values(ErrorCode);

    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
  });
});
