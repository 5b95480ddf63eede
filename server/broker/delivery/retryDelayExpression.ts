/**
 * A safe evaluator for `Upstash-Retry-Delay` expressions (milliseconds):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | 'retried' | name '(' expr (',' expr)* ')' | '(' expr ')'
 * It builds a tiny AST and walks it; nothing is ever handed to `eval` or `Function`.
 */
type Node =
  | { type: 'num'; value: number }
  | { type: 'var' }
  | { type: 'neg'; arg: Node }
  | { type: 'bin'; op: '+' | '-' | '*' | '/'; left: Node; right: Node }
  | { type: 'call'; name: FunctionName; args: Node[] };

const FUNCTIONS = {
  pow: { arity: 2, fn: (a: number, b: number) => Math.pow(a, b) },
  sqrt: { arity: 1, fn: (a: number) => Math.sqrt(a) },
  abs: { arity: 1, fn: (a: number) => Math.abs(a) },
  exp: { arity: 1, fn: (a: number) => Math.exp(a) },
  floor: { arity: 1, fn: (a: number) => Math.floor(a) },
  ceil: { arity: 1, fn: (a: number) => Math.ceil(a) },
  round: { arity: 1, fn: (a: number) => Math.round(a) },
  min: { arity: 2, fn: (a: number, b: number) => Math.min(a, b) },
  max: { arity: 2, fn: (a: number, b: number) => Math.max(a, b) },
} as const;
type FunctionName = keyof typeof FUNCTIONS;

export class RetryDelaySyntaxError extends Error {
  override readonly name = 'RetryDelaySyntaxError';
}

const MAX_LENGTH = 500;
const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/(),]))/y;

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < source.length) {
    if (/^\s*$/.test(source.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(source);
    if (!match) throw new RetryDelaySyntaxError(`unexpected character at position ${index}`);
    tokens.push((match[1] ?? match[2] ?? match[3]) as string); // exactly one group matched
    index = TOKEN.lastIndex;
  }
  return tokens;
}

/** Parses an expression; throws RetryDelaySyntaxError on anything outside the grammar. */
export function parseRetryDelay(source: string): Node {
  if (source.length > MAX_LENGTH) throw new RetryDelaySyntaxError('expression too long');
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const expect = (t: string) => {
    if (tokens[pos] !== t) throw new RetryDelaySyntaxError(`expected '${t}' but found '${tokens[pos] ?? 'end of input'}'`);
    pos++;
  };
  let depth = 0;
  const expr = (): Node => {
    if (++depth > 50) throw new RetryDelaySyntaxError('expression nested too deeply');
    let left = term();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[pos++] as '+' | '-';
      left = { type: 'bin', op, left, right: term() };
    }
    depth--;
    return left;
  };
  const term = (): Node => {
    let left = unary();
    while (peek() === '*' || peek() === '/') {
      const op = tokens[pos++] as '*' | '/';
      left = { type: 'bin', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      pos++;
      return { type: 'neg', arg: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = tokens[pos++];
    if (token === undefined) throw new RetryDelaySyntaxError('unexpected end of input');
    if (token === '(') {
      const inner = expr();
      expect(')');
      return inner;
    }
    if (/^[\d.]/.test(token)) return { type: 'num', value: Number(token) };
    if (token === 'retried') return { type: 'var' };
    if (Object.hasOwn(FUNCTIONS, token)) {
      const name = token as FunctionName;
      expect('(');
      const args = [expr()];
      while (peek() === ',') {
        pos++;
        args.push(expr());
      }
      expect(')');
      if (args.length !== FUNCTIONS[name].arity) throw new RetryDelaySyntaxError(`${name} takes ${FUNCTIONS[name].arity} argument(s)`);
      return { type: 'call', name, args };
    }
    throw new RetryDelaySyntaxError(`unknown identifier '${token}'`);
  };
  const node = expr();
  if (pos !== tokens.length) throw new RetryDelaySyntaxError(`unexpected '${tokens[pos]}'`);
  return node;
}

export function evaluateNode(node: Node, retried: number): number {
  switch (node.type) {
    case 'num':
      return node.value;
    case 'var':
      return retried;
    case 'neg':
      return -evaluateNode(node.arg, retried);
    case 'bin': {
      const a = evaluateNode(node.left, retried);
      const b = evaluateNode(node.right, retried);
      if (node.op === '+') return a + b;
      if (node.op === '-') return a - b;
      if (node.op === '*') return a * b;
      return a / b;
    }
    case 'call': {
      const values = node.args.map((arg) => evaluateNode(arg, retried));
      return (FUNCTIONS[node.name].fn as (...xs: number[]) => number)(...values);
    }
  }
}

/** Evaluates an expression for the given retry count; the caller bounds the result. */
export function evaluateRetryDelay(source: string, retried: number): number {
  return evaluateNode(parseRetryDelay(source), retried);
}
