import { Writable } from 'node:stream';
import { ErrorCode, KrakenError } from './errors.js';
import type { CreateLoggerOptions } from './logger.js';
import { MemoryLogger, createLogger, noopLogger } from './logger.js';

/** A logger writing into memory, and a way to read its lines once winston has flushed them. */
function capture(options: Omit<CreateLoggerOptions, 'stream'> = {}) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ ...options, stream });
  const lines = async (): Promise<string[]> => {
    await new Promise((resolve) => setImmediate(resolve));
    return chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '');
  };
  const records = async () => (await lines()).map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, message, ISO timestamp and the fields', async () => {
    const { logger, lines, records } = capture();

    logger.info('app deployed', { deploymentId: 'dep-1', replicas: 2 });

    expect(await lines()).toHaveLength(1);
    const [record] = await records();
    expect(record).toEqual({
      level: 'info',
      message: 'app deployed',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) as unknown,
      deploymentId: 'dep-1',
      replicas: 2,
    });
  });

  it('writes each level under its own name', async () => {
    const { logger, records } = capture({ level: 'debug' });

    logger.error('e');
    logger.warn('w');
    logger.info('i');
    logger.debug('d');

    expect((await records()).map((r) => [r['level'], r['message']])).toEqual([
      ['error', 'e'],
      ['warn', 'w'],
      ['info', 'i'],
      ['debug', 'd'],
    ]);
  });

  it('hides debug lines at the default info level', async () => {
    const { logger, records } = capture();

    logger.debug('noisy detail');
    logger.info('kept');

    expect((await records()).map((r) => r['message'])).toEqual(['kept']);
  });

  it('keeps only errors at level error', async () => {
    const { logger, records } = capture({ level: 'error' });

    logger.warn('w');
    logger.info('i');
    logger.error('e');

    expect((await records()).map((r) => r['message'])).toEqual(['e']);
  });

  it('adds the fields given at creation to every line', async () => {
    const { logger, records } = capture({ fields: { nodeId: 'pi-kitchen' } });

    logger.info('one');
    logger.warn('two', { attempt: 3 });

    expect((await records()).map((r) => [r['nodeId'], r['attempt']])).toEqual([
      ['pi-kitchen', undefined],
      ['pi-kitchen', 3],
    ]);
  });

  it('child() adds its fields to every line without changing the parent', async () => {
    const { logger, records } = capture({ fields: { nodeId: 'n1' } });
    const child = logger.child({ component: 'broker' }).child({ queue: 'kraken.orchestrator' });

    child.info('consuming', { prefetch: 10 });
    logger.info('parent line');

    const [fromChild, fromParent] = await records();
    expect(fromChild).toMatchObject({ nodeId: 'n1', component: 'broker', queue: 'kraken.orchestrator', prefetch: 10 });
    expect(fromParent).not.toHaveProperty('component');
  });

  it('keeps the message of an Error passed as a field instead of writing {}', async () => {
    const { logger, records } = capture();

    logger.error('deploy failed', { error: new TypeError('image not found') });

    const [record] = await records();
    expect(record?.['error']).toMatchObject({ name: 'TypeError', message: 'image not found' });
    expect((record?.['error'] as Record<string, unknown>)['stack']).toEqual(expect.stringContaining('image not found'));
  });

  it('writes a KrakenError field as its toJSON form', async () => {
    const { logger, records } = capture();

    logger.error('deploy failed', { error: new KrakenError(ErrorCode.NotFound, 'no such image', { deploymentId: 'dep-2' }) });

    const [record] = await records();
    expect(record?.['error']).toEqual({
      name: 'KrakenError',
      code: 'NOT_FOUND',
      message: 'no such image',
      deploymentId: 'dep-2',
    });
  });

  it('pretty format writes one readable line: time, level, message, then fields as JSON', async () => {
    const { logger, lines } = capture({ format: 'pretty', fields: { nodeId: 'n1' } });

    logger.warn('disk almost full', { freeMb: 120 });
    logger.info('ready');
    logger.error('failed', { error: new Error('boom\nsecond line') });

    const [warn, info, error] = await lines();
    expect(warn).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} warn {2}disk almost full \{"nodeId":"n1","freeMb":120\}$/);
    expect(info).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} info {2}ready \{"nodeId":"n1"\}$/);
    expect(error).toMatch(/ error failed \{"nodeId":"n1","error":\{"name":"Error","message":"boom\\nsecond line"\}\}$/);
    expect(await lines()).toHaveLength(3);
  });

  it('never writes the credentials of a URL, in the message, a field or an error, in either format', async () => {
    for (const format of ['json', 'pretty'] as const) {
      const { logger, lines } = capture({ format });
      logger.warn('clone of https://u:pw-1@git.lan/x.git failed', { srcUrl: 'https://tok-2@git.lan/y.git', error: new Error('fatal: https://a:pw-3@h/z') });
      const [line] = await lines();
      expect(line).not.toMatch(/pw-1|tok-2|pw-3/);
      expect(line).toContain('https://u:***@git.lan/x.git');
      expect(line).toContain('https://***@git.lan/y.git');
    }
  });
});

describe('MemoryLogger', () => {
  it('collects level, message and fields of each call', () => {
    const logger = new MemoryLogger();

    logger.error('e', { code: 1 });
    logger.warn('w');
    logger.info('i');
    logger.debug('d');

    expect(logger.records).toEqual([
      { level: 'error', message: 'e', fields: { code: 1 } },
      { level: 'warn', message: 'w', fields: {} },
      { level: 'info', message: 'i', fields: {} },
      { level: 'debug', message: 'd', fields: {} },
    ]);
  });

  it('records child lines in the parent, with the child fields merged in', () => {
    const logger = new MemoryLogger({ nodeId: 'n1' });

    logger.child({ component: 'worker' }).child({ deploymentId: 'dep-3' }).info('started', { port: 8080 });
    logger.info('parent');

    expect(logger.records).toEqual([
      { level: 'info', message: 'started', fields: { nodeId: 'n1', component: 'worker', deploymentId: 'dep-3', port: 8080 } },
      { level: 'info', message: 'parent', fields: { nodeId: 'n1' } },
    ]);
  });

  it('lets call fields override inherited ones', () => {
    const logger = new MemoryLogger({ component: 'a' });

    logger.child({ component: 'b' }).warn('x', { component: 'c' });

    expect(logger.records[0]?.fields).toEqual({ component: 'c' });
  });
});

describe('noopLogger', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('accepts every call, including on children, and writes nothing to stdout or stderr', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

    noopLogger.error('e', { a: 1 });
    noopLogger.warn('w');
    noopLogger.info('i');
    noopLogger.debug('d');
    const child = noopLogger.child({ component: 'x' });
    child.info('from child');

    expect(child).toBe(noopLogger);
    expect(stderr).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
  });
});
