import { AppUser, describeIsolation, isolationSchema } from './isolation.js';

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
