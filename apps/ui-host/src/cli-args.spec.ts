import { parseCliArgs } from './cli-args.js';

describe('parseCliArgs', () => {
  it('takes --api and defaults to 127.0.0.1:8080 with the shipped bundle', () => {
    expect(parseCliArgs(['--api', 'http://10.0.0.5:4000/'])).toEqual({ options: { api: 'http://10.0.0.5:4000', port: 8080, host: '127.0.0.1' } });
  });

  it('accepts --port, --host and --root', () => {
    expect(parseCliArgs(['--api', 'http://h:1', '--port', '0', '--host', '0.0.0.0', '--root', '/srv/ui'])).toEqual({
      options: { api: 'http://h:1', port: 0, host: '0.0.0.0', root: '/srv/ui' },
    });
  });

  it('names the flag and what is allowed when input is wrong', () => {
    expect(parseCliArgs([])).toEqual({ error: expect.stringMatching(/--api is required/) as unknown });
    expect(parseCliArgs(['--api', 'nope'])).toEqual({ error: expect.stringMatching(/--api must be a URL/) as unknown });
    expect(parseCliArgs(['--api', 'https://h'])).toEqual({ error: expect.stringMatching(/--api must be an http:\/\//) as unknown });
    expect(parseCliArgs(['--api', 'http://h', '--port', '99999'])).toEqual({ error: expect.stringMatching(/--port must be an integer from 0 to 65535/) as unknown });
    expect(parseCliArgs(['--api', 'http://h', '--bogus'])).toEqual({ error: expect.stringMatching(/bogus/) as unknown });
  });

  it('asks for help with -h', () => {
    expect(parseCliArgs(['-h'])).toEqual({ help: true });
  });
});
