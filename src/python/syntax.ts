/**
 * The Python syntax tree, through Lezer's error-tolerant, incremental Python parser. Half-typed code still
 * parses: broken parts become error nodes the interpreter skips.
 */
import type { SyntaxNode, Tree } from '@lezer/common';
import { TreeFragment } from '@lezer/common';
import { parser } from '@lezer/python';

export type { SyntaxNode, Tree };

/** One parsed Python file: its text, tree and a way to turn offsets into line/column. */
export class SourceFile {
  readonly tree: Tree;
  private lineStarts: number[] | undefined;

  constructor(
    /** A path or URI, as the caller names the file; shown in traces and used to resolve relative imports. */
    readonly path: string,
    readonly text: string,
    previous?: { tree: Tree; changes: readonly TextChange[] },
  ) {
    if (previous && previous.changes.length > 0) {
      // Reuse the unchanged parts of the previous tree: edits re-parse only around the change.
      let fragments = TreeFragment.addTree(previous.tree);
      // Changes are in old-text offsets, sorted and not overlapping; each earlier change shifts the later ones
      // in the new text by the difference of its lengths.
      let shift = 0;
      const ranges = [...previous.changes]
        .sort((a, b) => a.from - b.from)
        .map((change) => {
          const range = {
            fromA: change.from,
            toA: change.to,
            fromB: change.from + shift,
            toB: change.from + shift + change.insertLength,
          };
          shift += change.insertLength - (change.to - change.from);
          return range;
        });
      fragments = TreeFragment.applyChanges(fragments, ranges);
      this.tree = parser.parse(text, fragments);
    } else {
      this.tree = parser.parse(text);
    }
  }

  /** 1-based line and 0-based column of an offset. */
  position(offset: number): { line: number; col: number } {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++)
        if (this.text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, col: offset - this.lineStarts[low]! };
  }

  textOf(node: SyntaxNode): string {
    return this.text.slice(node.from, node.to);
  }
}

/** A replaced range of the old text (`from`..`to`) and the length of what replaced it. */
export interface TextChange {
  readonly from: number;
  readonly to: number;
  readonly insertLength: number;
}

/**
 * The direct children of a node, without comments (they may stand anywhere, even between arguments), error
 * nodes included (callers skip what they do not know).
 */
export function children(node: SyntaxNode): SyntaxNode[] {
  const result: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling)
    if (child.name !== 'Comment') result.push(child);
  return result;
}

/** Punctuation and keyword tokens that separate the parts of a statement or expression. */
const PUNCTUATION = new Set(['(', ')', '[', ']', '{', '}', ',', ':', '.', ';', 'AssignOp', 'UpdateOp', 'At']);

export function isPunctuation(node: SyntaxNode): boolean {
  return PUNCTUATION.has(node.name);
}

/** Splits a node's children at commas (or another separator), dropping the separators. */
export function splitAt(nodes: readonly SyntaxNode[], separator = ','): SyntaxNode[][] {
  const groups: SyntaxNode[][] = [[]];
  for (const node of nodes) {
    if (node.name === separator) groups.push([]);
    else groups[groups.length - 1]!.push(node);
  }
  return groups;
}
