import { hasLiveNumbers, memoryChartTitle, memoryText, offlineText } from './honest.js';

describe('memoryText', () => {
  it('shows use against a real limit', () => {
    expect(memoryText(44, 512)).toBe('44 MB of 512 MB');
  });

  it('says "no limit" when the runtime enforces none (limit 0) or reports none', () => {
    expect(memoryText(44, 0)).toBe('44 MB (no limit)');
    expect(memoryText(44, null)).toBe('44 MB (no limit)');
  });

  it('shows a dash when there is no reading', () => {
    expect(memoryText(null, 512)).toBe('—');
  });
});

describe('memoryChartTitle', () => {
  it('names the limit, or says there is none', () => {
    expect(memoryChartTitle(2048)).toBe('Memory (limit 2.0 GB)');
    expect(memoryChartTitle(0)).toBe('Memory (no limit)');
    expect(memoryChartTitle(undefined)).toBe('Memory (no limit)');
  });
});

describe('hasLiveNumbers', () => {
  it('is false for an app with no process: destroyed, stopped or errored', () => {
    expect(hasLiveNumbers('DESTROYED')).toBe(false);
    expect(hasLiveNumbers('STOPPED')).toBe(false);
    expect(hasLiveNumbers('ERRORED')).toBe(false);
    expect(hasLiveNumbers('RUNNING')).toBe(true);
    expect(hasLiveNumbers('DESTRUCTION_IN_PROGRESS')).toBe(true);
  });
});

describe('offlineText', () => {
  it('says since when (clock time) and how long ago', () => {
    const since = new Date(2026, 11, 6, 12, 0, 5).getTime();
    const text = offlineText(since, since + 95_000);
    expect(text).toContain(`since ${new Date(since).toLocaleTimeString()}`);
    expect(text).toContain('(1m 35s ago)');
  });
});
