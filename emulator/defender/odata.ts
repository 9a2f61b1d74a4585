// The subset of OData `$filter` the Defender vulnerability endpoints document: comparisons
// (eq ne gt ge lt le), and/or/not, parentheses, `in (...)`, and startswith/endswith/contains.

export class ODataError extends Error {}

type Literal = string | number | boolean | null;

type Node =
  | { type: 'and' | 'or'; left: Node; right: Node }
  | { type: 'not'; operand: Node }
  | { type: 'compare'; op: string; field: string; value: Literal }
  | { type: 'in'; field: string; values: Literal[] }
  | { type: 'function'; name: string; field: string; value: string };

export type Predicate = (record: Record<string, unknown>) => boolean;

const TOKEN = /\s*(?:(\()|(\))|(,)|'((?:[^']|'')*)'|(\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w.]*))/y;

function tokenize(text: string): { kind: string; value: string }[] {
  const tokens: { kind: string; value: string }[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(start))) break;
      throw new ODataError(`Syntax error at position ${start} in $filter: '${text.slice(start, start + 20)}'.`);
    }
    if (m[1]) tokens.push({ kind: '(', value: '(' });
    else if (m[2]) tokens.push({ kind: ')', value: ')' });
    else if (m[3]) tokens.push({ kind: ',', value: ',' });
    else if (m[4] !== undefined) tokens.push({ kind: 'string', value: m[4].replace(/''/g, "'") });
    else if (m[5]) tokens.push({ kind: 'date', value: m[5] });
    else if (m[6]) tokens.push({ kind: 'number', value: m[6] });
    else tokens.push({ kind: 'word', value: m[7] });
  }
  return tokens;
}

/** Parses `$filter` for a record type whose filterable fields are `fields`. */
export function parseFilter(text: string, fields: readonly string[]): Predicate {
  const tokens = tokenize(text);
  let at = 0;
  const peekWord = (w: string) => tokens[at]?.kind === 'word' && tokens[at].value.toLowerCase() === w;
  const expect = (kind: string) => {
    if (tokens[at]?.kind !== kind) throw new ODataError(`Syntax error in $filter: expected '${kind}' at token ${at + 1}.`);
    return tokens[at++];
  };
  const fieldName = () => {
    const word = expect('word').value;
    const field = fields.find((f) => f.toLowerCase() === word.toLowerCase());
    if (!field) throw new ODataError(`Invalid filter: property '${word}' is not supported. Supported properties: ${fields.join(', ')}.`);
    return field;
  };
  const literal = (): Literal => {
    const token = tokens[at++];
    if (!token) throw new ODataError('Syntax error in $filter: a value is missing.');
    if (token.kind === 'string' || token.kind === 'date') return token.value;
    if (token.kind === 'number') return Number(token.value);
    if (token.kind === 'word' && ['true', 'false', 'null'].includes(token.value)) return JSON.parse(token.value) as Literal;
    throw new ODataError(`Syntax error in $filter: '${token.value}' is not a value.`);
  };

  const primary = (): Node => {
    if (tokens[at]?.kind === '(') {
      at++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (peekWord('not')) {
      at++;
      return { type: 'not', operand: primary() };
    }
    for (const name of ['startswith', 'endswith', 'contains']) {
      if (peekWord(name) && tokens[at + 1]?.kind === '(') {
        at += 2;
        const field = fieldName();
        expect(',');
        const value = String(literal());
        expect(')');
        return { type: 'function', name, field, value };
      }
    }
    const field = fieldName();
    const op = expect('word').value.toLowerCase();
    if (op === 'in') {
      expect('(');
      const values = [literal()];
      while (tokens[at]?.kind === ',') {
        at++;
        values.push(literal());
      }
      expect(')');
      return { type: 'in', field, values };
    }
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) throw new ODataError(`Invalid filter: operator '${op}' is not supported.`);
    return { type: 'compare', op, field, value: literal() };
  };
  /** A left-associative chain of `next` joined by `word` (and binds tighter than or). */
  const chain = (word: 'and' | 'or', next: () => Node) => (): Node => {
    let node = next();
    while (peekWord(word)) {
      at++;
      node = { type: word, left: node, right: next() };
    }
    return node;
  };
  const and = chain('and', primary);
  const or = chain('or', and);

  const tree = or();
  if (at < tokens.length) throw new ODataError(`Syntax error in $filter near '${tokens[at].value}'.`);
  return (record) => evaluate(tree, record);
}

/** Orders two values: dates as instants, strings case-insensitively, others natively. */
function compare(a: unknown, b: Literal): number {
  if (a === null || a === undefined || b === null) return a === b || (a == null && b == null) ? 0 : NaN;
  if (typeof a === 'number' || typeof a === 'boolean') return Number(a) - Number(b);
  const text = String(a);
  const asDate = Date.parse(text);
  const bDate = typeof b === 'string' ? Date.parse(b) : NaN;
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(asDate) && !Number.isNaN(bDate)) return asDate - bDate;
  return text.toLowerCase().localeCompare(String(b).toLowerCase());
}

function evaluate(node: Node, record: Record<string, unknown>): boolean {
  switch (node.type) {
    case 'and': return evaluate(node.left, record) && evaluate(node.right, record);
    case 'or': return evaluate(node.left, record) || evaluate(node.right, record);
    case 'not': return !evaluate(node.operand, record);
    case 'in': return node.values.some((v) => compare(record[node.field], v) === 0);
    case 'function': {
      const value = String(record[node.field] ?? '').toLowerCase();
      const needle = node.value.toLowerCase();
      return node.name === 'startswith' ? value.startsWith(needle) : node.name === 'endswith' ? value.endsWith(needle) : value.includes(needle);
    }
    case 'compare': {
      const c = compare(record[node.field], node.value);
      switch (node.op) {
        case 'eq': return c === 0;
        case 'ne': return c !== 0;
        case 'gt': return c > 0;
        case 'ge': return c >= 0;
        case 'lt': return c < 0;
        default: return c <= 0;
      }
    }
  }
}
