/** A queue with O(1) push/shift and unshift of a batch at the front (for resending after a reconnect). */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  unshiftAll(batch: readonly T[]): void {
    this.items = [...batch, ...this.items.slice(this.head)];
    this.head = 0;
  }

  drainAll(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }

  /** Removes items matching `predicate`, returning them. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      (predicate(item) ? removed : kept).push(item);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }
}
