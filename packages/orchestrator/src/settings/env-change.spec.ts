import { DeploymentStatus } from '@kraken/messages';
import { thrown } from '@kraken/testing';
import { deploymentRecord } from '../../test/fixtures.js';
import { envChangeSummary, planEnvChange } from './env-change.js';

const running = deploymentRecord({ env: { GREETING: 'hi', DEBUG: '1' } });

describe('planEnvChange', () => {
  it('sets and unsets variables of a running deployment and restarts it, naming only the names', () => {
    const planned = planEnvChange(running, { set: { GREETING: 'secret-hello', TOKEN: 's3cr3t' }, unset: ['DEBUG'] });
    expect(planned).toEqual({ env: { GREETING: 'secret-hello', TOKEN: 's3cr3t' }, effect: 'restart', summary: 'set GREETING, TOKEN; unset DEBUG' });
    expect(planned.summary).not.toContain('s3cr3t');
  });

  it('keeps the change of an errored deployment for its next deploy', () => {
    expect(planEnvChange(deploymentRecord({ status: DeploymentStatus.Errored }), { set: { A: '1' }, unset: [] })).toMatchObject({ env: { A: '1' }, effect: 'store' });
  });

  it.each([
    [DeploymentStatus.BuildingDeployment, 'a deploy is in progress'],
    [DeploymentStatus.UpdateRequested, 'a deploy is in progress'],
    [DeploymentStatus.Destroyed, 'it is destroyed or being destroyed'],
    [DeploymentStatus.DestructionRequested, 'it is destroyed or being destroyed'],
  ])('refuses a change while the deployment is %s, saying why', (status, why) => {
    const deployment = deploymentRecord({ status });
    expect(thrown(() => planEnvChange(deployment, { set: { A: '1' }, unset: [] }))).toMatchObject({
      code: 'CONFLICT',
      deploymentId: 'hello-1',
      message: expect.stringContaining(`while it is ${status}: ${why}`) as unknown,
    });
  });

  it('refuses a change of a removed deployment', () => {
    expect(() => planEnvChange(deploymentRecord({ status: DeploymentStatus.Errored, removedAt: '2025-11-25T13:00:00.000Z' }), { set: { A: '1' }, unset: [] })).toThrow(
      'deployment hello-1 was removed; its settings can no longer change',
    );
  });

  it.each([
    ['an empty change', { set: {}, unset: [] }, 'unset: nothing to change: give variables to set or names to unset'],
    ['an unknown name to unset, listing the known ones', { set: {}, unset: ['NOPE'] }, 'unset[0]: NOPE is not set on deployment hello-1 (it has DEBUG, GREETING)'],
    ['a name both set and unset', { set: { DEBUG: '0' }, unset: ['DEBUG'] }, 'unset[0]: DEBUG is both set and unset; give it once'],
    ['an invalid name to unset (the wire rule)', { set: {}, unset: ['MY-VAR'] }, 'unset[0]: "MY-VAR" is not a valid variable name'],
  ])('rejects %s as invalid input naming the field', (_label, change, message) => {
    expect(thrown(() => planEnvChange(running, change))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(message) as unknown });
  });

  it('rejects a change that leaves more than 200 variables', () => {
    const many = Object.fromEntries(Array.from({ length: 199 }, (_, index) => [`V${String(index)}`, 'x']));
    expect(() => planEnvChange(running, { set: many, unset: [] })).toThrow('set: at most 200 variables per deployment; this change leaves 201');
  });
});

describe('envChangeSummary', () => {
  it('lists names in order, sets before unsets', () => {
    expect(envChangeSummary(['B', 'A'], [])).toBe('set A, B');
    expect(envChangeSummary([], ['Z'])).toBe('unset Z');
  });
});
