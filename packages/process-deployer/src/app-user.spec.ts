import { accountProblem, appUserBlocker, parsePasswdLine, withAccountEnv } from './app-user.js';

describe('appUserBlocker', () => {
  it('lets root try the wanted user', () => {
    expect(appUserBlocker('kraken-app', 0)).toBeUndefined();
  });

  it('says the setting is off when no user is wanted', () => {
    expect(appUserBlocker(undefined, 0)).toBe('running apps as a dedicated user is turned off (--no-app-user)');
  });

  it('falls back for an agent that is not root: it can neither create users nor start processes as one', () => {
    expect(appUserBlocker('kraken-app', 1000)).toBe('the agent is not root (uid 1000), so it cannot run apps as kraken-app');
  });
});

describe('accountProblem', () => {
  it('accepts an unprivileged user other than the agent', () => {
    expect(accountProblem('kraken-app', { uid: 998, gid: 998 }, 0)).toBeUndefined();
  });

  it('refuses root and the agent itself: apps would read its data and signal it', () => {
    expect(accountProblem('toor', { uid: 0, gid: 0 }, 0)).toBe('the user toor is root (uid 0): apps would run with every privilege');
    expect(accountProblem('me', { uid: 1000, gid: 1000 }, 1000)).toBe("the user me is the agent's own user (uid 1000)");
  });
});

describe('parsePasswdLine', () => {
  it("reads the uid and gid of the user's line", () => {
    expect(parsePasswdLine('kraken-app:x:998:997::/nonexistent:/usr/sbin/nologin\n', 'kraken-app')).toEqual({ uid: 998, gid: 997 });
  });

  it("ignores another user's line and broken ones", () => {
    expect(parsePasswdLine('kraken-app2:x:998:997::/nonexistent:/usr/sbin/nologin', 'kraken-app')).toBeUndefined();
    expect(parsePasswdLine('kraken-app:x:998', 'kraken-app')).toBeUndefined();
    expect(parsePasswdLine('kraken-app:x::997::/nonexistent:/bin/false', 'kraken-app')).toBeUndefined();
    expect(parsePasswdLine('kraken-app:x:abc:997::/nonexistent:/bin/false', 'kraken-app')).toBeUndefined();
  });
});

describe('withAccountEnv', () => {
  it("gives the account's processes its own HOME and name instead of the agent's", () => {
    const env = withAccountEnv({ PATH: '/usr/bin', HOME: '/root', USER: 'root', LOGNAME: 'root' }, { name: 'kraken-app', uid: 998, gid: 998, home: '/srv/kraken/home' });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/srv/kraken/home', USER: 'kraken-app', LOGNAME: 'kraken-app' });
  });
});
