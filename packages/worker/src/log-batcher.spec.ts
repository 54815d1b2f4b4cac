import { setTimeout as sleep } from 'node:timers/promises';
import type { DeployLogBody } from '@kraken/messages';
import { LogLimits } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import { LogBatcher, jsonTextBytes, truncateUtf8 } from './log-batcher.js';

function batcher(overrides: Partial<ConstructorParameters<typeof LogBatcher>[0]> = {}): { batcher: LogBatcher; sent: DeployLogBody[]; errors: unknown[] } {
  const sent: DeployLogBody[] = [];
  const errors: unknown[] = [];
  const instance = new LogBatcher({
    deploymentId: 'd1',
    flushLines: 3,
    flushIntervalMs: 30,
    bufferLines: 10,
    batchBytes: 64 * 1024,
    send: (body) => {
      sent.push(body);
      return Promise.resolve(true);
    },
    onSendError: (error) => errors.push(error),
    ...overrides,
  });
  return { batcher: instance, sent, errors };
}

const at = new Date('2025-01-01T00:00:00.000Z');

describe('LogBatcher', () => {
  it('sends a batch as soon as flushLines lines wait, numbering batches from 0', async () => {
    const { batcher: b, sent } = batcher({ flushIntervalMs: 10_000 });
    for (let i = 0; i < 7; i++) b.push('stdout', `l${i}`, at);
    await eventuallyPasses(() => {
      expect(sent.map((batch) => [batch.seq, batch.lines.map((line) => line.text)])).toEqual([
        [0, ['l0', 'l1', 'l2']],
        [1, ['l3', 'l4', 'l5']],
      ]);
    }, 5000, 5);
    await b.close();
    expect(sent.at(-1)).toMatchObject({ seq: 2, lines: [{ stream: 'stdout', text: 'l6', at: at.toISOString() }] });
  });

  it('sends fewer lines once the oldest has waited flushInterval', async () => {
    const { batcher: b, sent } = batcher();
    b.push('build', 'only', at);
    await sleep(10);
    expect(sent).toEqual([]);
    await eventuallyPasses(() => {
      expect(sent).toEqual([{ deploymentId: 'd1', seq: 0, lines: [{ stream: 'build', text: 'only', at: at.toISOString() }] }]);
    }, 5000, 5);
  });

  it('drops the oldest lines beyond the buffer while a send is slow, and reports the count in the next batch', async () => {
    let release: () => void = () => undefined;
    const sent: DeployLogBody[] = [];
    const { batcher: b } = batcher({
      bufferLines: 4,
      send: async (body) => {
        sent.push(body);
        if (body.seq === 0) await new Promise<void>((resolve) => (release = resolve));
        return true;
      },
    });
    for (let i = 0; i < 3; i++) b.push('stdout', `first${i}`, at); // batch 0, held in flight
    for (let i = 0; i < 6; i++) b.push('stdout', `x${i}`, at); // 6 lines into a buffer of 4: x0, x1 dropped
    release();
    await b.close();
    expect(sent.map((batch) => [batch.seq, batch.dropped, batch.lines.map((line) => line.text)])).toEqual([
      [0, undefined, ['first0', 'first1', 'first2']],
      [1, 2, ['x2', 'x3', 'x4']],
      [2, undefined, ['x5']],
    ]);
    expect(b.stats()).toEqual({ seq: 3, linesSent: 7, linesDropped: 2 });
  });

  it('counts the lines of a batch the broker dropped (or a send that threw) and reports them next, keeping the seq gap', async () => {
    const sent: DeployLogBody[] = [];
    const { batcher: b, errors } = batcher({
      send: (body) => {
        sent.push(body);
        if (body.seq === 0) return Promise.resolve(false);
        if (body.seq === 1) return Promise.reject(new Error('broker closed'));
        return Promise.resolve(true);
      },
    });
    for (let i = 0; i < 7; i++) b.push('stdout', `l${i}`, at);
    await b.close();
    expect(sent.map((batch) => [batch.seq, batch.dropped ?? 0])).toEqual([
      [0, 0],
      [1, 3],
      [2, 6],
    ]);
    expect(errors).toHaveLength(1);
    expect(b.stats().linesDropped).toBe(6);
  });

  it('keeps each batch under batchBytes and cuts lines to LogLimits.maxLineBytes without splitting characters', async () => {
    const { batcher: b, sent } = batcher({ flushLines: 100, batchBytes: 40 * 1024 });
    const long = 'é'.repeat(LogLimits.maxLineBytes); // 2 bytes each: twice the limit
    for (let i = 0; i < 4; i++) b.push('stderr', long, at);
    await b.close();
    expect(sent.map((batch) => batch.lines.length)).toEqual([2, 2]);
    const text = sent[0]?.lines[0]?.text ?? '';
    expect(Buffer.byteLength(text)).toBe(LogLimits.maxLineBytes);
    expect(text).toBe('é'.repeat(LogLimits.maxLineBytes / 2));
  });

  it('confirms the cursor of the last line with one in each batch the broker took, and none of a batch it dropped', async () => {
    const confirmed: string[] = [];
    let accept = true;
    const { batcher: b } = batcher({
      flushIntervalMs: 10_000,
      send: () => Promise.resolve(accept),
      onConfirmed: (cursor) => confirmed.push(cursor),
    });
    b.push('stdout', 'a', at, 'c1');
    b.push('system', 'not from the app', at);
    b.push('stdout', 'b', at, 'c2');
    b.push('stdout', 'c', at, 'c3');
    b.push('system', 'no cursor in this batch', at);
    await b.flush();
    accept = false;
    b.push('stdout', 'd', at, 'c4');
    await b.flush();
    expect(confirmed).toEqual(['c2', 'c3']);
  });

  it('discard() drops and counts what waits and ignores later lines', async () => {
    const { batcher: b, sent } = batcher();
    b.push('stdout', 'a', at);
    b.discard();
    b.push('stdout', 'b', at);
    await sleep(50);
    expect(sent).toEqual([]);
    expect(b.stats().linesDropped).toBe(1);
  });
});

describe('truncateUtf8', () => {
  it('leaves short text alone and never splits a multi-byte character', () => {
    expect(truncateUtf8('hello', 10)).toBe('hello');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
  });
});

describe('jsonTextBytes', () => {
  it('is the UTF-8 size of the JSON string, for plain text and for text JSON escapes', () => {
    for (const text of ['', 'noise noise 42', 'é and 😀', 'say "hi"', 'back\\slash', 'tab\tand\u0001', 'lone \ud800 half', '\u001b[31mred\u001b[0m']) {
      expect(jsonTextBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text)));
    }
  });
});

describe('time stamps', () => {
  it('stamps each line with its own time, lines of one read sharing one', async () => {
    const { batcher: b, sent } = batcher({ flushLines: 10 });
    const first = new Date('2025-01-01T00:00:00.000Z');
    const second = new Date('2025-01-01T00:00:00.250Z');
    b.push('stdout', 'a', first);
    b.push('stdout', 'b', new Date(first.getTime()));
    b.push('stdout', 'c', second);
    b.push('stderr', 'd', first);
    await b.close();
    expect(sent.flatMap((batch) => batch.lines.map((line) => line.at))).toEqual([first, first, second, first].map((time) => time.toISOString()));
  });
});
