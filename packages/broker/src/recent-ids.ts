/**
 * Ids of messages already handled, bounded so a long-running consumer does not grow without
 * limit. At-least-once delivery (republish after a reconnect, redelivery after a crash) means
 * the same message id can arrive twice; handlers should do the work once.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // Sets iterate in insertion order: the first value is the oldest
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}
