/**
 * Loads the golden cases produced by the real frameworks (../shared/oracle, beside the checkout) and compares
 * the core's answers with them. A case that expects an error only needs the core to refuse; the message is
 * the core's own, in the user's words.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateCase } from '../../src/core/arithmetic/case';

export const ORACLE_DIR = path.resolve(__dirname, '../../../../shared/oracle');

export interface GoldenCase {
  op: string;
  output?: number[];
  error?: string;
  [key: string]: unknown;
}

export function loadCases(file: string): GoldenCase[] {
  const candidates = [path.join(ORACLE_DIR, file), path.resolve(process.cwd(), '../shared/oracle', file)];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`Golden file ${file} not found (looked in ${candidates.join(', ')}).`);
  return (JSON.parse(fs.readFileSync(found, 'utf8')) as { cases: GoldenCase[] }).cases;
}

/** Returns a readable line for every case the core gets wrong (empty when all pass). */
export function mismatches(cases: readonly GoldenCase[]): string[] {
  const wrong: string[] = [];
  for (const golden of cases) {
    const { output: _output, error: _error, ...question } = golden;
    const answer = evaluateCase(question);
    if (golden.error !== undefined) {
      if ('output' in answer) {
        wrong.push(
          `${JSON.stringify(question)}\n   expected error ${golden.error}\n   got output ${JSON.stringify(answer.output)}`,
        );
      }
    } else if (!('output' in answer) || JSON.stringify(answer.output) !== JSON.stringify(golden.output)) {
      wrong.push(
        `${JSON.stringify(question)}\n   expected ${JSON.stringify(golden.output)}\n   got ${JSON.stringify(answer)}`,
      );
    }
  }
  return wrong;
}
