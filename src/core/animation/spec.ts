/**
 * The ```conv-lens spec language: the animation payload written the way people write a layer, for Markdown
 * fences. A block is an operation name followed by `key=value` settings, on one line or several; `key: value`
 * lines and `#` comments are allowed too:
 *
 *   ```conv-lens
 *   conv_transpose2d input=3x3 kernel=3 stride=2 padding=1 output_padding=1
 *   framework: pytorch   # PyTorch's rules and messages apply
 *   ```
 *
 * Values: whole numbers (`3`), one per dimension (`3x3`, `3×3`, `(3, 2)`), padding pairs (`((1, 2), (0, 1))`),
 * words (`same`, `pytorch`), booleans (`true`, `True`) and JSON for `values` (`values: {"input": [1, 2, 3]}`). The settings become the
 * JSON payload of payload.ts, so a block and a notebook output are checked by the same code and fail with the
 * same messages; syntax errors say on which line they are.
 */
import type { Outcome } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import { type AnimationSpec, parseAnimationPayload } from './payload';
import { type Timeline, buildTimeline } from './timeline';

/** The Markdown fence language (```conv-lens). */
export const SPEC_LANGUAGE = 'conv-lens';

/** Largest block read, in characters; a fence longer than this is surely not a layer description. */
const MAX_SPEC_LENGTH = 20_000;

/** Reads a spec block into the JSON payload it stands for (not yet checked; see parseSpec). */
export function specToPayload(text: string): Outcome<Record<string, unknown>> {
  if (typeof text !== 'string') return fail('The conv-lens block must be text.');
  if (text.length > MAX_SPEC_LENGTH) {
    return fail(
      `The conv-lens block is ${text.length} characters long; Conv Lens reads up to ${MAX_SPEC_LENGTH}.`,
    );
  }
  const payload: Record<string, unknown> = {};
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const where = `line ${index + 1}`;
    const line = stripComment(lines[index]!).trim();
    if (line === '') continue;
    const colon = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$/.exec(line);
    if (colon) {
      const read = readValue(colon[2]!.trim(), where, colon[1]!);
      if (!read.ok) return read;
      const set = setField(payload, colon[1]!, read.value, where);
      if (!set.ok) return set;
      continue;
    }
    const tokens = tokenize(line, where);
    if (!tokens.ok) return tokens;
    for (const token of tokens.value) {
      const equals = token.indexOf('=');
      if (equals < 0) {
        if (/^[A-Za-z][A-Za-z0-9_]*$/.test(token) && !('op' in payload)) {
          payload['op'] = token;
          continue;
        }
        return fail(
          `${where}: "${token}" is not a setting; write settings as key=value (e.g. kernel=3)` +
            ('op' in payload ? '.' : ', after the operation name (e.g. conv2d).'),
        );
      }
      const key = token.slice(0, equals).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        return fail(`${where}: "${token}" has no setting name before "=".`);
      const read = readValue(token.slice(equals + 1).trim(), where, key);
      if (!read.ok) return read;
      const set = setField(payload, key, read.value, where);
      if (!set.ok) return set;
    }
  }
  if (Object.keys(payload).length === 0) {
    return fail('The conv-lens block is empty; write e.g. "conv2d input=5x5 kernel=3 stride=2 padding=1".');
  }
  return ok(payload);
}

/** Reads and checks a spec block: the same AnimationSpec (and the same messages) as a notebook payload. */
export function parseSpec(text: string): Outcome<AnimationSpec> {
  const payload = specToPayload(text);
  return payload.ok ? parseAnimationPayload(payload.value) : payload;
}

/** A spec block all the way to its timeline, for the Markdown renderer. */
export function timelineFromSpec(text: string): Outcome<Timeline> {
  const spec = parseSpec(text);
  return spec.ok ? buildTimeline(spec.value) : spec;
}

function setField(
  payload: Record<string, unknown>,
  key: string,
  value: unknown,
  where: string,
): Outcome<true> {
  if (key in payload) return fail(`${where}: "${key}" is set twice.`);
  payload[key] = value;
  return ok(true);
}

/** Drops a `#` comment, unless the `#` sits inside quotes. */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#') {
      return line.slice(0, i);
    }
  }
  return line;
}

/** Splits on spaces and commas outside brackets and quotes, so `padding=(1, 2)` stays one token. */
function tokenize(line: string, where: string): Outcome<string[]> {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  let quote: string | null = null;
  for (const c of line) {
    if (quote) {
      current += c;
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
      current += c;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth < 0) return fail(`${where}: "${c}" closes a bracket that was never opened.`);
      current += c;
    } else if ((c === ' ' || c === '\t' || c === ',') && depth === 0) {
      if (current !== '') tokens.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (quote) return fail(`${where}: a ${quote} quote is not closed.`);
  if (depth > 0) return fail(`${where}: a bracket is not closed.`);
  if (current !== '') tokens.push(current);
  // `key = value` written with spaces: glue the three tokens back together.
  const glued: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === '=' && glued.length > 0 && i + 1 < tokens.length) {
      glued[glued.length - 1] += `=${tokens[++i]!}`;
    } else if (token.endsWith('=') && i + 1 < tokens.length && !tokens[i + 1]!.includes('=')) {
      glued.push(token + tokens[++i]!);
    } else if (token.startsWith('=') && glued.length > 0) {
      glued[glued.length - 1] += token;
    } else {
      glued.push(token);
    }
  }
  return ok(glued);
}

/** One value as written: a number, `3x3`, a tuple or list, a quoted or bare word, a boolean. */
function readValue(text: string, where: string, key: string): Outcome<unknown> {
  if (text === '') return fail(`${where}: "${key}" has no value.`);
  if (/^-?\d+$/.test(text)) return ok(Number(text));
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text)) return ok(Number(text));
  if (/^\d+(\s*[x×]\s*\d+)+$/.test(text)) return ok(text.split(/\s*[x×]\s*/).map(Number));
  if (/^(true|True)$/.test(text)) return ok(true);
  if (/^(false|False)$/.test(text)) return ok(false);
  if (/^(none|None|null)$/.test(text)) return ok(null);
  if (text.startsWith('(') || text.startsWith('[')) {
    // Python tuples read as JSON lists: (1, 2) → [1, 2]; a one-element tuple (3,) → [3].
    const json = text
      .replace(/\(/g, '[')
      .replace(/\)/g, ']')
      .replace(/,\s*\]/g, ']');
    try {
      return ok(JSON.parse(json) as unknown);
    } catch {
      return fail(
        `${where}: cannot read the value of "${key}" (${text}); write e.g. (1, 2) or ((1, 2), (0, 1)).`,
      );
    }
  }
  if (text.startsWith('{')) {
    try {
      return ok(JSON.parse(text) as unknown);
    } catch {
      return fail(`${where}: cannot read the value of "${key}"; write JSON, e.g. {"input": [1, 2, 3]}.`);
    }
  }
  const quoted = /^(["'])(.*)\1$/.exec(text);
  if (quoted) return ok(quoted[2]);
  if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(text)) return ok(text);
  return fail(`${where}: cannot read the value of "${key}" (${text}).`);
}
