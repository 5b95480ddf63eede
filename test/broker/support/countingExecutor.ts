import type { Executor, Queryable } from '../../../server/broker/db/executor.ts';

export interface StatementCounts {
  /** Every statement sent, BEGIN and COMMIT included. */
  statements: number;
  /** Transactions that wrote: a lone INSERT/UPDATE/DELETE statement, or a transaction block containing one. */
  writeTransactions: number;
}

/** Wraps the broker's executor to count what it sends (tests and bench/brokerCost.ts). */
export function countingExecutor(inner: Executor): { executor: Executor; counts: StatementCounts } {
  const counts: StatementCounts = { statements: 0, writeTransactions: 0 };
  const isWrite = (text: string) => /\b(INSERT|UPDATE|DELETE)\b/i.test(text);
  const wrap = (q: Queryable, block: { wrote: boolean } | undefined): Queryable => ({
    query(text, params) {
      counts.statements++;
      if (isWrite(text)) {
        if (block) block.wrote = true;
        else counts.writeTransactions++;
      }
      return q.query(text, params);
    },
  });
  const executor: Executor = {
    ...wrap(inner, undefined),
    async transaction(fn) {
      counts.statements += 2; // BEGIN, COMMIT
      const block = { wrote: false };
      try {
        return await inner.transaction((tx) => fn(wrap(tx, block)));
      } finally {
        if (block.wrote) counts.writeTransactions++;
      }
    },
    exec: (text) => inner.exec(text),
    close: () => inner.close(),
  };
  return { executor, counts };
}
