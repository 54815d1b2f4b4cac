import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import type { TcpRelay } from './tcp-relay.js';
import { startTcpRelay } from './tcp-relay.js';

describe('the delaying TCP relay', () => {
  let echo: Server;
  let echoPort: number;
  let relay: TcpRelay;
  let client: Socket | undefined;

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const address = echo.address();
    echoPort = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterEach(async () => {
    client?.destroy();
    await relay.close();
  });

  afterAll(async () => {
    echo.close();
    await once(echo, 'close');
  });

  /** Connects through the relay and resolves with the first `length` bytes echoed back. */
  const echoed = (length: number, send: (socket: Socket) => void): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = createConnection({ host: relay.address, port: relay.port });
      client = socket;
      let received = '';
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.length >= length) resolve(received);
      });
      socket.once('connect', () => {
        send(socket);
      });
    });

  it('passes the stream both ways', async () => {
    relay = await startTcpRelay({ target: { address: '127.0.0.1', port: echoPort }, delayMs: 0 });
    await expect(echoed(5, (socket) => socket.write('hello'))).resolves.toBe('hello');
  });

  it('keeps the stream in order when the delay drops while chunks are held', async () => {
    relay = await startTcpRelay({ target: { address: '127.0.0.1', port: echoPort }, delayMs: 300 });
    const answer = echoed(6, (socket) => {
      socket.write('first');
      // the first chunk is held for 300 ms; one sent after the drop must still come after it
      setTimeout(() => {
        relay.setDelay(0);
        socket.write('!');
      }, 50);
    });
    await expect(answer).resolves.toBe('first!');
    expect(relay.delayMs).toBe(0);
  });

  it('refuses a negative delay', async () => {
    relay = await startTcpRelay({ target: { address: '127.0.0.1', port: echoPort }, delayMs: 0 });
    expect(() => {
      relay.setDelay(-1);
    }).toThrow('tcp relay: the delay must be 0 ms or more, got -1');
  });
});
