import { ErrorCode, KrakenError } from '@kraken/common';
import { amqpUrl, defaultAmqpUrl, redactUrl } from './amqp.js';
import { thrown } from './thrown.js';

describe('amqpUrl', () => {
  it('defaults to guest on the loopback RabbitMQ', () => {
    expect(amqpUrl({})).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(defaultAmqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
  });

  it('takes KRAKEN_TEST_AMQP_URL when it is set', () => {
    expect(amqpUrl({ KRAKEN_TEST_AMQP_URL: 'amqps://u:p@broker.test:5671/vh' })).toBe('amqps://u:p@broker.test:5671/vh');
  });

  it('treats an empty KRAKEN_TEST_AMQP_URL as unset', () => {
    expect(amqpUrl({ KRAKEN_TEST_AMQP_URL: '' })).toBe(defaultAmqpUrl);
  });

  it('rejects a non-AMQP URL, naming the variable and hiding the password', () => {
    const error = thrown(() => amqpUrl({ KRAKEN_TEST_AMQP_URL: 'http://u:secret@host' }));
    expect(error).toBeInstanceOf(KrakenError);
    expect((error as KrakenError).code).toBe(ErrorCode.InvalidConfig);
    expect((error as KrakenError).message).toMatch(/^KRAKEN_TEST_AMQP_URL must be an amqp:\/\/ or amqps:\/\/ URL/);
    expect((error as KrakenError).message).toContain('http://u:***@host');
  });
});

describe('redactUrl', () => {
  it('hides the password of any scheme', () => {
    expect(redactUrl('http://u:secret@host/x')).toBe('http://u:***@host/x');
  });

  it('replaces the password and keeps user, host and port', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672')).toBe('amqp://guest:***@127.0.0.1:5672');
  });

  it('leaves a URL without credentials alone', () => {
    expect(redactUrl('amqp://127.0.0.1:5672')).toBe('amqp://127.0.0.1:5672');
  });
});
