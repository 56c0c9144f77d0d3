/**
 * Reads one layer call as a user types it — `nn.ConvTranspose2d(64, 32, 4, stride=2, padding=(1, 0))` — into
 * its callee name, positional and keyword arguments. This is for short expressions typed into the CLI or the
 * calculator; model files go through the real Python parser.
 */
import type { PyValue } from './arithmetic/types';
import { type Outcome, fail, ok } from './arithmetic/types';

export interface CallExpression {
  readonly callee: string;
  readonly positional: PyValue[];
  /**
   * For each positional argument, the variable name when the user wrote a bare name there (its value is then
   * unknown and reads as None), else null. Functional forms take the input tensor this way: `F.conv2d(x, ...)`.
   */
  readonly positionalNames: (string | null)[];
  readonly keyword: Record<string, PyValue>;
}

type Token =
  | { kind: 'name'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'end'; at: number };

const MAX_EXPRESSION_LENGTH = 10_000;

export function parseCallExpression(source: string): Outcome<CallExpression> {
  if (source.length > MAX_EXPRESSION_LENGTH) return fail('That layer expression is too long to read.');
  const tokens = tokenize(source);
  if (!tokens.ok) return tokens;
  const parser = new Parser(tokens.value, source);
  try {
    const call = parser.call();
    parser.expectEnd();
    return ok(call);
  } catch (error) {
    return fail(error instanceof SyntaxError ? error.message : String(error));
  }
}

function tokenize(source: string): Outcome<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      const start = i;
      while (i < source.length && /[\w.]/.test(source[i]!)) i++;
      tokens.push({ kind: 'name', text: source.slice(start, i), at: start });
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const start = i;
      while (i < source.length && /[0-9_.eE]/.test(source[i]!)) i++;
      const value = Number(source.slice(start, i).replace(/_/g, ''));
      if (!Number.isFinite(value)) return fail(`'${source.slice(start, i)}' is not a number.`);
      tokens.push({ kind: 'number', value, at: start });
    } else if (ch === '"' || ch === "'") {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) return fail(`A string starting at column ${i + 1} is not closed.`);
      tokens.push({ kind: 'string', value: source.slice(i + 1, end), at: i });
      i = end + 1;
    } else if ('(),=[]-+*'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, at: i });
      i++;
    } else {
      return fail(`Unexpected '${ch}' at column ${i + 1}.`);
    }
  }
  tokens.push({ kind: 'end', at: source.length });
  return ok(tokens);
}

class Parser {
  private index = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  call(): CallExpression {
    const callee = this.next();
    if (callee.kind !== 'name') throw this.error(callee, 'a layer name such as nn.Conv2d');
    const positional: PyValue[] = [];
    const positionalNames: (string | null)[] = [];
    const keyword: Record<string, PyValue> = {};
    this.expectPunct('(');
    while (!this.atPunct(')')) {
      const token = this.peek();
      const following = this.tokens[this.index + 1];
      if (token.kind === 'name' && following?.kind === 'punct' && following.text === '=') {
        this.index += 2;
        if (token.text in keyword) throw new SyntaxError(`'${token.text}' is given twice.`);
        keyword[token.text] = this.value();
      } else {
        if (Object.keys(keyword).length > 0) {
          throw new SyntaxError('A positional argument cannot follow a keyword argument.');
        }
        const bareName = this.bareName();
        positionalNames.push(bareName);
        positional.push(bareName === null ? this.value() : null);
      }
      if (!this.atPunct(')')) this.expectPunct(',');
    }
    this.expectPunct(')');
    return { callee: callee.text, positional, positionalNames, keyword };
  }

  /** Consumes and returns a variable name standing alone as an argument (`x` in `F.conv2d(x, ...)`). */
  private bareName(): string | null {
    const token = this.peek();
    const following = this.tokens[this.index + 1];
    if (token.kind !== 'name' || ['True', 'False', 'None'].includes(token.text)) return null;
    if (following?.kind !== 'punct' || (following.text !== ',' && following.text !== ')')) return null;
    this.index++;
    return token.text;
  }

  expectEnd(): void {
    const token = this.peek();
    if (token.kind !== 'end') throw this.error(token, 'the end of the expression');
  }

  private value(): PyValue {
    const token = this.next();
    if (token.kind === 'number') return token.value;
    if (token.kind === 'string') return token.value;
    if (token.kind === 'punct' && (token.text === '-' || token.text === '+')) {
      const operand = this.value();
      if (typeof operand !== 'number') throw this.error(token, 'a number after the sign');
      return token.text === '-' ? -operand : operand;
    }
    if (token.kind === 'name') {
      if (token.text === 'True') return true;
      if (token.text === 'False') return false;
      if (token.text === 'None') return null;
      throw new SyntaxError(
        `'${token.text}' is a name; only literal values (numbers, strings, tuples, True/False/None) can be read here.`,
      );
    }
    if (token.kind === 'punct' && (token.text === '(' || token.text === '[')) {
      const close = token.text === '(' ? ')' : ']';
      const items: PyValue[] = [];
      while (!this.atPunct(close)) {
        items.push(this.value());
        if (!this.atPunct(close)) this.expectPunct(',');
      }
      this.expectPunct(close);
      // (3) is the number 3 in Python, (3,) a tuple; the tokenizer cannot see the comma, so check the text.
      if (
        close === ')' &&
        items.length === 1 &&
        !this.source.slice(token.at, this.previous().at).includes(',')
      ) {
        return items[0]!;
      }
      return items;
    }
    throw this.error(token, 'a value');
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }
  private previous(): Token {
    return this.tokens[this.index - 1]!;
  }
  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index++;
    return token;
  }
  private atPunct(text: string): boolean {
    const token = this.peek();
    if (token.kind === 'end') throw new SyntaxError(`The expression ends early: '${text}' is missing.`);
    return token.kind === 'punct' && token.text === text;
  }
  private expectPunct(text: string): void {
    const token = this.next();
    if (token.kind !== 'punct' || token.text !== text) throw this.error(token, `'${text}'`);
  }
  private error(token: Token, expected: string): SyntaxError {
    const found = token.kind === 'end' ? 'the end' : `'${this.source.slice(token.at, token.at + 12).trim()}'`;
    return new SyntaxError(`Expected ${expected} at column ${token.at + 1}, found ${found}.`);
  }
}
