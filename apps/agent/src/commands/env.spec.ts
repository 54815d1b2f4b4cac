import type { ApiClient } from '../client/api-client.js';
import { Queries } from '../client/queries.js';
import { envListCommand, envSetCommand, parseAssignments } from './env.js';

const base = { id: 'hello-1', json: false };

describe('parseAssignments', () => {
  it('takes NAME=value pairs as typed, the value after the first =', async () => {
    await expect(parseAssignments({ ...base, assignments: ['A=1', 'URL=http://x/?a=b'] })).resolves.toEqual([
      { name: 'A', value: '1' },
      { name: 'URL', value: 'http://x/?a=b' },
    ]);
  });

  it('reads the value of a bare NAME from stdin, without the newline a terminal or echo adds', async () => {
    await expect(parseAssignments({ ...base, assignments: ['TOKEN'], readStdin: () => Promise.resolve('s3cr3t\n') })).resolves.toEqual([{ name: 'TOKEN', value: 's3cr3t' }]);
  });

  it.each([
    [['A', 'B'], 'only one NAME can read its value from stdin; got A, B'],
    [['1BAD=x'], '"1BAD" is not a valid variable name'],
    [['MY-VAR'], '"MY-VAR" is not a valid variable name'],
    [[], 'give NAME=value'],
  ])('refuses %j: %s', async (assignments, message) => {
    await expect(parseAssignments({ ...base, assignments, readStdin: () => Promise.resolve('v') })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(message) as unknown });
  });
});

describe('kraken env', () => {
  it('lists names with masked values, and sends set as the API change, printing the status message', async () => {
    const calls: { query: string; variables: unknown }[] = [];
    const client = {
      graphql: (query: string, variables: unknown) => {
        calls.push({ query, variables });
        const env = [{ name: 'GREETING', value: '***' }];
        return Promise.resolve(
          query === Queries.getEnv
            ? { getDeployment: { id: 'hello-1', status: 'RUNNING', statusMessage: null, env } }
            : { setEnv: { id: 'hello-1', status: 'UPDATE_REQUESTED', statusMessage: 'restarting with changed settings: set GREETING', env } },
        );
      },
    } as unknown as ApiClient;
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: () => undefined };
    await envListCommand(client, base, io);
    expect(out.join('\n')).toMatch(/GREETING\s+\*\*\*/);
    await envSetCommand(client, { ...base, assignments: ['GREETING=hi'] }, io);
    expect(calls[1]).toEqual({ query: Queries.setEnv, variables: { id: 'hello-1', set: [{ name: 'GREETING', value: 'hi' }], unset: [] } });
    expect(out.at(-1)).toBe('restarting with changed settings: set GREETING (hello-1, now update requested); follow it with kraken ls');
  });
});
