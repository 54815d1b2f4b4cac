import { AppUser, MAX_REASON_LENGTH, describeIsolation, fitIsolation, isolationSchema } from './isolation.js';

describe('describeIsolation', () => {
  it('says a container with limits in two words', () => {
    expect(describeIsolation({ runsAs: AppUser.Container, limits: true })).toBe('container, limits');
  });

  it('names the unprivileged user processes run as', () => {
    expect(describeIsolation({ runsAs: AppUser.Agent, user: 'kraken-app', limits: true })).toBe('runs as user kraken-app, limits');
  });

  it("warns that apps of the agent's user are bounded by nothing", () => {
    expect(describeIsolation({ runsAs: AppUser.Agent, limits: false })).toBe("runs as the agent's user, no limits");
  });

  it('says why, where the node gave its reasons and they are asked for', () => {
    const isolation = { runsAs: AppUser.Agent, limits: false, userWhyNot: 'no useradd here', limitsWhyNot: 'no cgroup v2 here' };
    expect(describeIsolation(isolation, { reasons: true })).toBe("runs as the agent's user, no limits: no useradd here; no cgroup v2 here");
    expect(describeIsolation(isolation)).toBe("runs as the agent's user, no limits");
    expect(describeIsolation({ runsAs: AppUser.Agent, user: 'kraken-app', limits: true, limitsWhyNot: 'stale' }, { reasons: true })).toBe('runs as user kraken-app, limits');
  });

  it('cuts a long reason to fit its field, and leaves a short one', () => {
    const fitted = fitIsolation({ runsAs: 'agent', limits: false, limitsWhyNot: 'x'.repeat(1000), userWhyNot: 'turned off' });
    const cut = fitted.limitsWhyNot ?? '';
    expect({ length: cut.length, end: cut.slice(-2), user: fitted.userWhyNot, valid: isolationSchema.safeParse(fitted).success }).toEqual({
      length: MAX_REASON_LENGTH,
      end: 'x…',
      user: 'turned off',
      valid: true,
    });
  });
});

describe('isolationSchema', () => {
  it('names the field that is wrong', () => {
    const result = isolationSchema.safeParse({ runsAs: 'root', limits: 'yes' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['runsAs', 'expected one of "agent", "container"'],
      ['limits', 'expected a boolean'],
    ]);
  });
});
