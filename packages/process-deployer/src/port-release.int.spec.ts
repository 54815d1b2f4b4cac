import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readProcStat } from '@kraken/common';
import { appAnswer, eventually, freePort } from '@kraken/testing';
import { terminateAppGroup } from './supervisor.js';

// A server whose thread pool is busy when it is stopped: its main thread turns zombie before the
// other threads are gone, and the listening socket closes only with the last of them, after that
// one has freed the process's memory (large here, so that takes a while).
const BUSY_SERVER = `
const http = require('node:http');
const crypto = require('node:crypto');
globalThis.kept = Buffer.alloc(768 * 1024 * 1024, 1);
http.createServer((request, response) => response.end('up')).listen(Number(process.argv[1]));
setInterval(() => { for (let i = 0; i < 4; i += 1) crypto.pbkdf2('a', 'b', 20000, 64, 'sha512', () => {}); }, 5);
`;

/** 'free', or the listen error's code. */
function tryListen(port: number): Promise<string> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
    server.listen(port, '0.0.0.0', () => {
      server.close(() => {
        resolve('free');
      });
    });
  });
}

describe('stopping an app group', () => {
  it('returns only once the app has let go of its port, so a start on the same port right after never finds it taken', async () => {
    const rounds = 15;
    const afterStop: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const port = await freePort();
      const app = spawn(process.execPath, ['-e', BUSY_SERVER, String(port)], { detached: true, stdio: 'ignore' });
      await once(app, 'spawn');
      const pid = app.pid!;
      await eventually(async () => (await appAnswer(port, '/', 1_000)) === 'up', 10_000, 'the busy server to answer');
      const { startTime } = (await readProcStat(pid))!;

      await terminateAppGroup(pid, startTime, 3_000);
      afterStop.push(await tryListen(port));
    }
    expect(afterStop).toEqual(Array.from({ length: rounds }, () => 'free'));
  }, 120_000);
});
