import { MessageType } from '@kraken/messages';
import { eventuallyPasses } from '@kraken/testing';
import type { Harness } from '../test/harness.js';
import { request, startHarness } from '../test/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A running app-1 whose answers the test switches on and off. */
async function running(): Promise<{ harness: Harness; answers: { on: boolean }; ports: number[] }> {
  const answers = { on: true };
  const ports: number[] = [];
  h = await startHarness({
    options: { readyCheckInterval: 10, readyCheckFailures: 2 },
    readyProbe: (port) => {
      ports.push(port);
      return Promise.resolve(answers.on ? { answered: true } : { answered: false, reason: 'connect ECONNREFUSED' });
    },
  });
  await h.send(MessageType.DeployRequest, request('app-1'));
  const { statusesOf } = h;
  await eventuallyPasses(() => { expect(statusesOf('app-1').at(-1)).toBe('Running'); }, 3_000, 5);
  return { harness: h, answers, ports };
}

describe('Worker: apps that stop answering', () => {
  it('reports a fresh Running deployment as ready', async () => {
    const { harness } = await running();
    const readiness = harness.statuses.at(-1)?.readiness;
    expect(readiness?.ready).toBe(true);
    expect(readiness?.reason).toBeUndefined();
  });

  it('reports an app that stops answering as Running and unready, the same attempt, then ready again once it answers', async () => {
    const { harness, answers, ports } = await running();
    await eventuallyPasses(() => { expect(ports.length).toBeGreaterThan(0); }, 3_000, 5);
    expect(new Set(ports)).toEqual(new Set([20_001]));
    answers.on = false;
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.readiness?.ready).toBe(false); }, 3_000, 5);
    const unready = harness.statuses.at(-1);
    expect(unready).toMatchObject({ status: 'Running', attempt: 1, port: 20_001 });
    expect(unready?.readiness?.reason).toMatch(/^not answering on port 20001 for .* \(2 checks, last: connect ECONNREFUSED\)$/);
    expect(unready?.message).toMatch(/: the ingress sends it nothing until it answers again$/);
    answers.on = true;
    await eventuallyPasses(() => { expect(harness.statuses.at(-1)?.readiness?.ready).toBe(true); }, 3_000, 5);
    expect(harness.statuses.at(-1)).toMatchObject({ status: 'Running', attempt: 1 });
    expect(harness.statuses.at(-1)?.message).toMatch(/^answering on port 20001 again after/);
    const said = (): string[] => harness.logs('app-1').flatMap((batch) => batch.lines).filter((line) => line.stream === 'system').map((line) => line.text);
    await eventuallyPasses(() => { expect(said().some((text) => text.startsWith('answering on port'))).toBe(true); }, 3_000, 5);
    expect(said().some((text) => text.startsWith('not answering on port 20001'))).toBe(true);
  });

  it('stops checking an app once it is stopped', async () => {
    const { harness, ports } = await running();
    await harness.send(MessageType.DeployStop, { deploymentId: 'app-1' });
    await eventuallyPasses(() => { expect(harness.statusesOf('app-1').at(-1)).toBe('Destroyed'); }, 3_000, 5);
    const checks = ports.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ports).toHaveLength(checks);
  });
});
