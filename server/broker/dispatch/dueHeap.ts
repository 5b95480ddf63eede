export interface DueItem {
  dueAt: number;
  /** Tie-breaker that keeps FIFO order among items due at the same time. */
  order: number;
  key: string;
  token: number;
}

/** A binary min-heap by due time. Stale items are skipped by the caller via `token`. */
export class DueHeap {
  private readonly items: DueItem[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: DueItem): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i] as DueItem, items[parent] as DueItem)) break;
      swap(items, i, parent);
      i = parent;
    }
  }

  peek(): DueItem | undefined {
    return this.items[0];
  }

  pop(): DueItem | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && less(items[left] as DueItem, items[smallest] as DueItem)) smallest = left;
      if (right < items.length && less(items[right] as DueItem, items[smallest] as DueItem)) smallest = right;
      if (smallest === i) break;
      swap(items, i, smallest);
      i = smallest;
    }
    return top;
  }
}

function less(a: DueItem, b: DueItem): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
}

function swap(items: DueItem[], i: number, j: number): void {
  const t = items[i] as DueItem;
  items[i] = items[j] as DueItem;
  items[j] = t;
}
