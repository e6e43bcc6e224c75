/**
 * Ably's subscription filters (`channels.getDerived(name, {filter})`, sent as the `filter`
 * channel param, base64): a JMESPath expression over `{name, clientId, headers}` (headers are the
 * message's `extras.headers`); a message is delivered when the expression is truthy. Supported
 * here: the part of JMESPath filters use — field paths, `literal` and 'raw string' values,
 * == != < <= > >=, && || !, parentheses. Anything else is refused at attach with 40010.
 */
import { isDeepStrictEqual } from 'node:util';
import { Errors } from './protocol/errors.ts';
import type { StoredMessage } from './protocol/payload.ts';

type Node =
  | { k: 'path'; names: string[] }
  | { k: 'lit'; value: unknown }
  | { k: 'not'; e: Node }
  | { k: 'and' | 'or'; l: Node; r: Node }
  | { k: 'cmp'; op: string; l: Node; r: Node };

export type MessageFilter = (m: StoredMessage) => boolean;

const TOKEN = /\s*(?:(==|!=|<=|>=|&&|\|\||[<>!().])|`((?:\\`|[^`])*)`|'((?:\\'|[^'])*)'|"((?:\\"|[^"])*)"|([A-Za-z_][A-Za-z0-9_]*))/y;
type Tok = { t: 'op'; v: string } | { t: 'lit'; v: unknown } | { t: 'id'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw invalid(src, `unexpected "${src.slice(at, at + 10)}"`);
    if (m[1]) out.push({ t: 'op', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'lit', v: parseJson(src, m[2].replace(/\\`/g, '`')) });
    else if (m[3] !== undefined) out.push({ t: 'lit', v: m[3].replace(/\\'/g, "'") });
    else if (m[4] !== undefined) out.push({ t: 'id', v: parseJson(src, `"${m[4]}"`) as string });
    else out.push({ t: 'id', v: m[5]! });
  }
  return out;
}

function parseJson(src: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(src, `bad literal ${text.slice(0, 40)}`);
  }
}

function invalid(src: string, why: string) {
  return Errors.invalidChannelName(`Invalid filter expression "${src.slice(0, 200)}": ${why}`);
}

function parse(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = (v: string) => toks[i]?.t === 'op' && toks[i]!.v === v;
  const binary = (k: 'and' | 'or', op: string, next: () => Node) => () => {
    let l = next();
    while (peek(op)) {
      i++;
      l = { k, l, r: next() };
    }
    return l;
  };
  const primary = (): Node => {
    const t = toks[i++];
    if (!t) throw invalid(src, 'unexpected end');
    if (t.t === 'lit') return { k: 'lit', value: t.v };
    if (t.t === 'op' && t.v === '!') return { k: 'not', e: primary() };
    if (t.t === 'op' && t.v === '(') {
      const e = or();
      if (!peek(')')) throw invalid(src, 'missing ")"');
      i++;
      return e;
    }
    if (t.t !== 'id') throw invalid(src, `unexpected "${t.v}"`);
    const names = [t.v];
    while (peek('.')) {
      i++;
      const n = toks[i++];
      if (n?.t !== 'id') throw invalid(src, 'expected a field name after "."');
      names.push(n.v);
    }
    return { k: 'path', names };
  };
  const comparison = (): Node => {
    const l = primary();
    const t = toks[i];
    if (t?.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      i++;
      return { k: 'cmp', op: t.v, l, r: primary() };
    }
    return l;
  };
  const and = binary('and', '&&', comparison);
  const or = binary('or', '||', and);
  const tree = or();
  if (i < toks.length) throw invalid(src, 'unexpected trailing input');
  return tree;
}

const truthy = (v: unknown) =>
  !(v === null || v === undefined || v === false || v === '' || (Array.isArray(v) && !v.length) || (typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.keys(v).length));

function evaluate(n: Node, doc: Record<string, unknown>): unknown {
  switch (n.k) {
    case 'lit':
      return n.value;
    case 'path':
      return n.names.reduce<unknown>((v, name) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[name] ?? null : null), doc);
    case 'not':
      return !truthy(evaluate(n.e, doc));
    case 'and': {
      const l = evaluate(n.l, doc);
      return truthy(l) ? evaluate(n.r, doc) : l;
    }
    case 'or': {
      const l = evaluate(n.l, doc);
      return truthy(l) ? l : evaluate(n.r, doc);
    }
    case 'cmp': {
      const [l, r] = [evaluate(n.l, doc), evaluate(n.r, doc)];
      if (n.op === '==') return isDeepStrictEqual(l ?? null, r ?? null);
      if (n.op === '!=') return !isDeepStrictEqual(l ?? null, r ?? null);
      // JMESPath orders numbers only; any other comparison is null (falsy).
      if (typeof l !== 'number' || typeof r !== 'number') return null;
      return n.op === '<' ? l < r : n.op === '<=' ? l <= r : n.op === '>' ? l > r : l >= r;
    }
  }
}

/** Compiles the `filter` channel param (base64 of the expression); invalid ones are 40010. */
export function compileFilter(param: string): MessageFilter {
  const src = Buffer.from(param, 'base64').toString('utf8');
  if (!src.trim()) throw invalid(src, 'empty');
  const tree = parse(src);
  return (m) => {
    const extras = m.extras as { headers?: unknown } | undefined;
    return truthy(evaluate(tree, { name: m.name ?? null, clientId: m.clientId ?? null, headers: extras?.headers ?? null }));
  };
}
