import { ErrorCode, KrakenError } from '@kraken/common';
import { blameEngine, engineMessage, mapEngineError } from './errors.js';

const context = { deploymentId: 'd1', step: 'run' as const, action: 'start the app container' };

function engineError(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });
}

describe('blameEngine', () => {
  const watch = { windowMs: 200, intervalMs: 10 };
  const shuttingDown = new KrakenError(ErrorCode.Internal, 'Docker could not start the app container: failed to update store for object type *libnetwork.endpoint', {
    deploymentId: 'd1',
    details: { step: 'run' },
  });

  it('turns a failure into EngineDown when the engine does not answer any more, keeping the message and step', async () => {
    const blamed = blameEngine(shuttingDown, 'd1', () => Promise.reject(new Error('connect ENOENT /run/docker.sock')), watch);
    await expect(blamed).rejects.toMatchObject({
      code: ErrorCode.EngineDown,
      deploymentId: 'd1',
      details: { step: 'run' },
      message: 'the Docker engine stopped answering during the deploy: Docker could not start the app container: failed to update store for object type *libnetwork.endpoint',
    });
  });

  it('blames the engine when it stops answering a moment after an unexpected error (a daemon shutting down answers pings for a second)', async () => {
    let asks = 0;
    const ping = () => (++asks < 4 ? Promise.resolve() : Promise.reject(new Error('connect ENOENT /run/docker.sock')));
    await expect(blameEngine(shuttingDown, 'd1', ping, watch)).rejects.toMatchObject({ code: ErrorCode.EngineDown });
    expect(asks).toBe(4);
  });

  it("passes the failure on when the engine answers (the app's or the build's fault), and EngineDown as it is", async () => {
    await expect(blameEngine(shuttingDown, 'd1', () => Promise.resolve(), watch)).rejects.toBe(shuttingDown);
    // an expected failure (a test that failed) asks once, without waiting
    const failedTest = new KrakenError(ErrorCode.InvalidInput, 'the test command exited with 1', { deploymentId: 'd1' });
    let asked = 0;
    const once = () => {
      asked += 1;
      return Promise.resolve();
    };
    await expect(blameEngine(failedTest, 'd1', once, { windowMs: 60_000, intervalMs: 10 })).rejects.toBe(failedTest);
    expect(asked).toBe(1);
    const down = new KrakenError(ErrorCode.EngineDown, 'the Docker engine did not answer', { deploymentId: 'd1' });
    let askedDown = false;
    await expect(
      blameEngine(down, 'd1', () => {
        askedDown = true;
        return Promise.resolve();
      }, watch),
    ).rejects.toBe(down);
    expect(askedDown).toBe(false);
  });
});

describe('mapEngineError', () => {
  it('maps an unreachable socket to EngineDown', () => {
    const error = mapEngineError(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }), context);
    expect(error).toMatchObject({ code: ErrorCode.EngineDown, deploymentId: 'd1', details: { step: 'run' } });
  });

  it.each(['Bind for 0.0.0.0:8080 failed: port is already allocated', 'listen tcp4 0.0.0.0:8080: bind: address already in use'])(
    'maps "%s" to Conflict naming the host port',
    (message) => {
      const error = mapEngineError(engineError(500, message), { ...context, hostPort: 8080 });
      expect(error.code).toBe(ErrorCode.Conflict);
      expect(error.message).toContain('host port 8080 is already in use');
    },
  );

  it('maps 404 to NotFound and anything else to Internal, with the engine message', () => {
    expect(mapEngineError(engineError(404, 'No such image: x'), context)).toMatchObject({ code: ErrorCode.NotFound, message: 'Docker could not start the app container: No such image: x' });
    expect(mapEngineError(engineError(500, 'boom'), context).code).toBe(ErrorCode.Internal);
  });

  it('passes a KrakenError through unchanged', () => {
    const original = new KrakenError(ErrorCode.Timeout, 'slow');
    expect(mapEngineError(original, context)).toBe(original);
  });

  it("prefers the engine's JSON message over the HTTP wrapper", () => {
    expect(engineMessage(engineError(500, 'inner'))).toBe('inner');
    expect(engineMessage('text')).toBe('text');
  });
});
