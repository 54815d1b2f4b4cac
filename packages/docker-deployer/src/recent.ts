/**
 * Values kept for a while by key: each is dropped once older than `maxAgeMs`, checked whenever
 * one is read or kept, so keys that stop being asked about (containers that came and went) leave
 * nothing behind.
 */
export class Recent<T> {
  private readonly byKey = new Map<string, { value: T; atMs: number }>();

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(key: string): T | undefined {
    this.dropOld();
    return this.byKey.get(key)?.value;
  }

  set(key: string, value: T): void {
    this.dropOld();
    this.byKey.set(key, { value, atMs: this.now() });
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  private dropOld(): void {
    const now = this.now();
    for (const [key, entry] of this.byKey) if (now - entry.atMs > this.maxAgeMs) this.byKey.delete(key);
  }
}
