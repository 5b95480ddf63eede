import { parse, protocol, type PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

const { CommandCompleteMessage, DataRowMessage, RowDescriptionMessage } = protocol.messages;

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];

/** A statement parsed once under a name: its parameter types and the row description of its results. */
interface Prepared {
  name: string;
  paramTypes: number[];
  rowDescription: BackendMessage | undefined;
}

/** The statements prepared on one PGlite, by text: shared by everything that queries it (app and broker). */
interface Statements {
  byText: Map<string, Prepared>;
  next: number;
  /** Names dropped from `byText` whose server-side statement is closed with the next prepare. */
  toClose: string[];
}

/**
 * Most statements kept prepared per PGlite. jobwire's statements are a bounded set (values are
 * parameters), but a multi-row statement has one text per row count; the oldest goes first.
 */
const MAX_PREPARED = 500;
const statementsOf = new WeakMap<PGlite, Statements>();
const { serialize } = protocol;

/**
 * A PGlite whose `query` (and its transactions' `query`) prepares each statement once, by text,
 * and from then on only binds and executes it, in one call into PGlite.
 *
 * PGlite's own `query` parses, describes, plans and executes every statement afresh, in six
 * protocol calls (Parse, Describe, Bind, Describe, Execute, Sync): on the end-to-end path that was
 * about two thirds of the time spent inside PGlite (docs/performance.md "PGlite end to end"). This
 * is what postgres.js does on PostgreSQL (`server/db/database.ts`, `preparing`). Results, errors,
 * notifications, locking (PGlite's transaction and query mutexes) and the file-system sync after a
 * statement outside a transaction are PGlite's own; `exec` (the simple protocol) is unchanged.
 */
export function preparedPglite(pg: PGlite): PGlite {
  return new Proxy(pg, {
    get(target, property) {
      if (property === 'query') {
        return async <T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
          if (options?.blob) return target.query<T>(query, params, options); // COPY through /dev/blob: PGlite's own path
          await target._checkReady();
          return target._runExclusiveTransaction(() => runPrepared<T>(target, { query, params, options, inTransaction: false }));
        };
      }
      if (property === 'transaction') {
        return <T>(callback: (tx: Transaction) => Promise<T>) => target.transaction((tx) => callback(preparedTransaction(target, tx)));
      }
      const value = Reflect.get(target, property) as unknown;
      // PGlite's methods read its private fields: they must run on the instance, not on this proxy.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function preparedTransaction(pg: PGlite, tx: Transaction): Transaction {
  return new Proxy(tx, {
    get(target, property, receiver) {
      if (property === 'query') {
        return async <T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
          if (options?.blob) return target.query<T>(query, params, options);
          if (target.closed) throw new Error('Transaction is closed'); // PGlite's own message
          // The transaction holds PGlite's transaction mutex; a statement inside it takes only the query mutex, as PGlite's tx.query does.
          return runPrepared<T>(pg, { query, params, options, inTransaction: true });
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

interface Run {
  query: string;
  params: unknown[] | undefined;
  options: QueryOptions | undefined;
  inTransaction: boolean;
}

function runPrepared<T>(pg: PGlite, run: Run): Promise<Results<T>> {
  return pg._runExclusiveQuery(async () => {
    let messages: BackendMessage[];
    try {
      messages = await bindAndExecute(pg, run);
    } catch (error) {
      if (!isStalePlan(error)) throw withQuery(error, run);
      // The table under a prepared statement changed shape (a migration): prepare it again, as PostgreSQL's clients do.
      forget(pg, keyOf(run.query, run.options));
      if (run.inTransaction) throw withQuery(error, run); // the transaction is aborted: its caller retries it
      messages = await bindAndExecute(pg, run).catch((retryError: unknown) => {
        throw withQuery(retryError, run);
      });
    }
    if (!run.inTransaction) await pg.syncToFs();
    return toResults<T>(pg, messages, run.options);
  });
}

async function bindAndExecute(pg: PGlite, { query, params = [], options }: Run): Promise<BackendMessage[]> {
  const statement = await prepare(pg, query, options);
  const values = params.map((param, i) => {
    if (param === null || param === undefined) return null;
    const oid = statement.paramTypes[i] ?? 0;
    const serializer = options?.serializers?.[oid] ?? pg.serializers[oid];
    return serializer ? serializer(param) : String(param); // PGlite's own rule (param.toString())
  });
  const results = await pg.execProtocolStream(concat(serialize.bind({ statement: statement.name, values }), serialize.execute({}), serialize.sync()), { syncToFs: false });
  // Rows are read against the statement's row description, as PGlite reads them against a portal's.
  return statement.rowDescription ? [statement.rowDescription, ...results] : results;
}

async function prepare(pg: PGlite, query: string, options: QueryOptions | undefined): Promise<Prepared> {
  let statements = statementsOf.get(pg);
  if (!statements) statementsOf.set(pg, (statements = { byText: new Map(), next: 0, toClose: [] }));
  const key = keyOf(query, options);
  const known = statements.byText.get(key);
  if (known) return known;
  if (statements.byText.size >= MAX_PREPARED) {
    const [oldest] = statements.byText;
    if (oldest) forget(pg, oldest[0]);
  }
  const name = `jw_${statements.next++}`;
  const closes = statements.toClose.splice(0).map((old) => serialize.close({ type: 'S', name: old }));
  const described = await pg.execProtocolStream(
    concat(...closes, serialize.parse({ name, text: query, types: options?.paramTypes }), serialize.describe({ type: 'S', name }), serialize.sync()),
    { syncToFs: false },
  );
  const prepared: Prepared = {
    name,
    paramTypes: parse.parseDescribeStatementResults(described),
    rowDescription: described.find((message) => message.name === 'rowDescription'),
  };
  statements.byText.set(key, prepared);
  return prepared;
}

/** A prepared statement's key: its text, and the parameter types it declares (they make another statement). */
function keyOf(query: string, options: QueryOptions | undefined): string {
  return options?.paramTypes ? `${query}\0${options.paramTypes.join(',')}` : query;
}

function forget(pg: PGlite, key: string): void {
  const statements = statementsOf.get(pg);
  const prepared = statements?.byText.get(key);
  if (!statements || !prepared) return;
  statements.byText.delete(key);
  statements.toClose.push(prepared.name);
}

/**
 * The statement's result as PGlite's `parseResults` builds it (fields, rows as objects or arrays,
 * command, affectedRows, rowCount), without its per-call copy of every type parser (PGlite's
 * parsers plus the caller's, several hundred entries, merged afresh for each statement: 5–8 % of the
 * server's CPU on the end-to-end path): each column's parser is looked up once.
 */
function toResults<T>(pg: PGlite, messages: BackendMessage[], options: QueryOptions | undefined): Results<T> {
  let fields: { name: string; dataTypeID: number }[] = [];
  let parsers: (((value: string, typeId: number) => unknown) | undefined)[] = [];
  const rows: unknown[] = [];
  const arrays = options?.rowMode === 'array';
  for (const message of messages) {
    if (message instanceof RowDescriptionMessage) {
      fields = message.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID }));
      parsers = fields.map((field) => options?.parsers?.[field.dataTypeID] ?? pg.parsers[field.dataTypeID]);
    } else if (message instanceof DataRowMessage) {
      const values = message.fields.map((value, i) => {
        const parser = parsers[i];
        return value === null || !parser ? value : parser(value, fields[i]?.dataTypeID ?? 0);
      });
      rows.push(arrays ? values : Object.fromEntries(values.map((value, i) => [fields[i]?.name, value])));
    } else if (message instanceof CommandCompleteMessage) {
      // A tag that carries a row count ends in it ("SELECT 2", "UPDATE 3", "INSERT 0 5").
      const parts = message.text.split(' ');
      const command = parts[0] ?? '';
      const rowCount = Number.parseInt(parts[parts.length - 1] ?? '', 10);
      const affectedRows = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command) ? rowCount : 0;
      return { rows: rows as T[], fields, command, affectedRows, ...(Number.isNaN(rowCount) ? {} : { rowCount }) } as Results<T>;
    }
  }
  return { rows: [], fields: [], affectedRows: 0 };
}

/** PostgreSQL refuses to run a prepared statement whose result columns changed since it was prepared. */
function isStalePlan(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '0A000' && error.message.includes('cached plan must not change result type');
}

/** What PGlite's own `query` adds to a database error (PGliteError: query, params, queryOptions). */
function withQuery(error: unknown, { query, params, options }: Run): unknown {
  if (error instanceof Error && 'severity' in error) Object.assign(error, { query, params, queryOptions: options });
  return error;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
