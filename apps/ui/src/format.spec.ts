import { canCancel, countByStatus, filterLines, formatAge, formatMb, isSettled, mergeLines, parseEnv, statusColor, statusLabel } from './format.js';

describe('status presentation', () => {
  it('turns enum values into sentence-case labels', () => {
    expect(statusLabel('RUNNING')).toBe('Running');
    expect(statusLabel('BUILDING_DEPLOYMENT')).toBe('Building deployment');
  });

  it('colours running green, errored red, destroyed grey and transitions as in progress', () => {
    expect(statusColor('RUNNING')).toBe('green');
    expect(statusColor('ERRORED')).toBe('red');
    expect(statusColor('DESTROYED')).toBe('default');
    expect(statusColor('DESTRUCTION_IN_PROGRESS')).toBe('orange');
    expect(statusColor('DEPLOYING')).toBe('processing');
  });

  it('knows which statuses are settled and which can be cancelled', () => {
    expect(isSettled('RUNNING')).toBe(true);
    expect(isSettled('DEPLOYING')).toBe(false);
    expect(canCancel('RUNNING')).toBe(true);
    expect(canCancel('ERRORED')).toBe(true);
    expect(canCancel('DESTROYED')).toBe(false);
    expect(canCancel('DESTRUCTION_REQUESTED')).toBe(false);
  });

  it('counts deployments per status with zeros for absent ones', () => {
    const counts = countByStatus([{ status: 'RUNNING' }, { status: 'RUNNING' }, { status: 'ERRORED' }]);
    expect(counts.RUNNING).toBe(2);
    expect(counts.ERRORED).toBe(1);
    expect(counts.DESTROYED).toBe(0);
    expect(Object.keys(counts)).toHaveLength(14);
  });
});

describe('formatting', () => {
  it('formats ages from seconds to days', () => {
    expect(formatAge(4.7)).toBe('4s');
    expect(formatAge(200)).toBe('3m 20s');
    expect(formatAge(7500)).toBe('2h 5m');
    expect(formatAge(3 * 86400 + 4 * 3600)).toBe('3d 4h');
    expect(formatAge(-3)).toBe('0s');
  });

  it('formats memory in MB or GB', () => {
    expect(formatMb(512)).toBe('512 MB');
    expect(formatMb(8000)).toBe('7.8 GB');
  });
});

describe('parseEnv', () => {
  it('reads NAME=value lines, keeping = in values and skipping blank lines', () => {
    expect(parseEnv('A=1\n\n  B_2=x=y  \n')).toEqual({ ok: true, env: [{ name: 'A', value: '1' }, { name: 'B_2', value: 'x=y' }] });
  });

  it('names the line and the rule for a bad name or a missing =', () => {
    expect(parseEnv('A=1\n1X=2')).toEqual({ ok: false, error: expect.stringMatching(/^line 2: expected NAME=value/) as unknown });
    expect(parseEnv('JUSTNAME')).toEqual({ ok: false, error: expect.stringMatching(/line 1: .*got "JUSTNAME"/) as unknown });
  });
});

describe('log lines', () => {
  const line = (seq: number, text = `l${seq}`) => ({ seq, text });

  it('filters by text, case-insensitive', () => {
    expect(filterLines([line(1, 'Listening'), line(2, 'hit /')], 'listen')).toEqual([line(1, 'Listening')]);
    expect(filterLines([line(1)], '  ')).toEqual([line(1)]);
  });

  it('merges pages and live batches without duplicates, in seq order', () => {
    expect(mergeLines([line(1), line(2)], [line(3)])).toEqual([line(1), line(2), line(3)]);
    expect(mergeLines([line(1), line(2)], [line(2), line(3)])).toEqual([line(1), line(2), line(3)]);
    expect(mergeLines([line(3)], [line(1), line(2)])).toEqual([line(1), line(2), line(3)]);
  });
});
