import { redactCredentials } from './redact.js';

describe('redactCredentials', () => {
  it('hides passwords and lone tokens of every URL in a text, and nothing else', () => {
    expect(redactCredentials('https://u:pw@host/x.git')).toBe('https://u:***@host/x.git');
    expect(redactCredentials('https://ghp_abc123@github.com/o/r.git')).toBe('https://***@github.com/o/r.git');
    expect(redactCredentials('clone of https://u:p%40ss@h/x.git failed; retry http://a:b@c/d')).toBe('clone of https://u:***@h/x.git failed; retry http://a:***@c/d');
    expect(redactCredentials('amqp://kraken-node-a:***@10.0.0.1:5673')).toBe('amqp://kraken-node-a:***@10.0.0.1:5673');
    for (const unchanged of ['https://host/x.git', 'git@github.com:o/r.git', 'mail me at a@b.c', '/srv/repos/app', 'file:///tmp/x']) {
      expect(redactCredentials(unchanged)).toBe(unchanged);
    }
  });
});
