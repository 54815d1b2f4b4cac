import type { Clock } from '@kraken/common';

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private ms = Date.parse('2025-11-25T12:00:00.000Z')) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
