/**
 * The analysis behind the editor features, free of vscode so that it runs in a worker thread (or, as a
 * fallback, in the extension host) and in unit tests. It keeps the parsed text of every open document, so an
 * edit re-parses only around the change and imports read the editor's text rather than the file on disk, and it
 * adds to the interpreter's report what the hovers need from the syntax: each layer's constructor as written,
 * and the forward calls that apply layers by the name they were assigned to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeDocument, EDITOR_BUDGET, type DocumentAnalysis } from '../python/document';
import type { ModuleLoader } from '../python/interpreter';
import { SourceFile, type SyntaxNode, type TextChange } from '../python/syntax';
import type { AnalyzeRequest, EditorAnalysis, EditorCall, EditorLayer } from './analysisProtocol';

/** Documents longer than this are not analysed: no model file is this big, and parsing one must not stall. */
export const MAX_ANALYZED_CHARS = 1024 * 1024;

/**
 * The one edit that turns `before` into `after`: the common prefix and suffix are kept and the middle replaced.
 * Computed from the texts rather than from the editor's change events, so that several events (or events whose
 * ranges are relative to different intermediate texts) between two analyses still give a correct range for
 * the incremental parse. Returns null when the texts are equal.
 */
export function textChange(before: string, after: string): TextChange | null {
  if (before === after) return null;
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (
    suffix < shorter - prefix &&
    before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
  )
    suffix++;
  return { from: prefix, to: before.length - suffix, insertLength: after.length - suffix - prefix };
}

interface DiskEntry {
  readonly mtimeMs: number;
  readonly size: number;
  readonly file: SourceFile | null;
}

export class AnalysisEngine {
  /** Open documents by path: the editor's text wins over the disk for imports, and trees are reused. */
  private readonly open = new Map<string, SourceFile>();
  /** Files read from disk for imports, re-read when their modification time or size changes. */
  private readonly disk = new Map<string, DiskEntry>();
  private roots: string[] = [];

  setRoots(roots: readonly string[]): void {
    this.roots = roots.map((root) => path.resolve(root));
  }

  /** Records the editor's text of a document (null: it closed, and imports read the disk again). */
  setOverlay(filePath: string, text: string | null): void {
    if (text === null) this.open.delete(filePath);
    else this.openFile(filePath, text);
  }

  /** The parsed document, re-using the previous tree of the same path for the unchanged parts. */
  openFile(filePath: string, text: string): SourceFile {
    const previous = this.open.get(filePath);
    if (previous && previous.text === text) return previous;
    const change = previous ? textChange(previous.text, text) : null;
    const file =
      previous && change
        ? new SourceFile(filePath, text, { tree: previous.tree, changes: [change] })
        : new SourceFile(filePath, text);
    this.open.set(filePath, file);
    return file;
  }

  /** A workspace file for an import: the open document's text when it is open, else the file on disk. */
  fileAt(filePath: string): SourceFile | null {
    const open = this.open.get(filePath);
    if (open) return open;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(filePath);
    } catch {
      this.disk.delete(filePath);
      return null;
    }
    if (!stat.isFile()) return null;
    const cached = this.disk.get(filePath);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.file;
    let file: SourceFile | null = null;
    if (stat.size <= MAX_ANALYZED_CHARS) {
      try {
        file = new SourceFile(filePath, fs.readFileSync(filePath, 'utf8'));
      } catch {
        file = null;
      }
    }
    this.disk.set(filePath, { mtimeMs: stat.mtimeMs, size: stat.size, file });
    return file;
  }

  /** The workspace folder that holds a path, if any. */
  rootOf(filePath: string): string | null {
    let best: string | null = null;
    for (const root of this.roots) {
      const relative = path.relative(root, filePath);
      if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
      if (!best || root.length > best.length) best = root;
    }
    return best;
  }

  workspaceRoots(): readonly string[] {
    return this.roots;
  }

  analyze(request: AnalyzeRequest): EditorAnalysis {
    const started = Date.now();
    if (request.text.length > MAX_ANALYZED_CHARS) {
      return emptyAnalysis([`The file is larger than 1 MB; Conv Lens does not analyse it.`], started);
    }
    const file = this.openFile(request.path, request.text);
    const loader = new WorkspaceLoader(this);
    let report: DocumentAnalysis;
    const problems: string[] = [];
    try {
      report = analyzeDocument(file, {
        loader,
        budget: request.budget ?? EDITOR_BUDGET,
        inputShapes: request.inputShapes,
      });
    } catch (error) {
      // An interpreter bug must not take the editor features down: report it and show nothing for this text.
      report = { layers: [], diagnostics: [], hints: [], problems: [] };
      problems.push(`The shape analysis failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const layers: EditorLayer[] = report.layers.map((layer) => ({
      ...layer,
      callee: calleeText(file, layer),
    }));
    let calls: EditorCall[] = [];
    try {
      calls = layerCalls(file, layers);
    } catch (error) {
      problems.push(`Finding layer calls failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      layers,
      diagnostics: report.diagnostics,
      hints: report.hints,
      calls,
      problems: [...report.problems, ...problems],
      dependencies: [...loader.dependencies].filter((dependency) => dependency !== request.path),
      milliseconds: Date.now() - started,
    };
  }
}

function emptyAnalysis(problems: string[], started: number): EditorAnalysis {
  return {
    layers: [],
    diagnostics: [],
    hints: [],
    calls: [],
    problems,
    dependencies: [],
    milliseconds: Date.now() - started,
  };
}

/**
 * Resolves imports to workspace files, the way a project root on sys.path finds them: relative imports from
 * the importing file's folder; absolute ones from that folder and each folder above it up to its workspace
 * folder, then from each workspace folder. Anything else (torch, keras) is not a workspace file. Remembers
 * which files it read, so that an edit to one of them re-analyses the documents that import it.
 */
class WorkspaceLoader implements ModuleLoader {
  readonly dependencies = new Set<string>();
  private readonly memo = new Map<string, SourceFile | null>();

  constructor(private readonly engine: AnalysisEngine) {}

  resolve(fromPath: string, moduleName: string, level: number): SourceFile | null {
    const key = `${fromPath}\n${moduleName}\n${level}`;
    if (this.memo.has(key)) return this.memo.get(key)!;
    const found = this.lookUp(fromPath, moduleName.split('.').filter(Boolean), level);
    this.memo.set(key, found);
    if (found) this.dependencies.add(found.path);
    return found;
  }

  private lookUp(fromPath: string, parts: readonly string[], level: number): SourceFile | null {
    const fromFile = path.isAbsolute(fromPath);
    if (level > 0) {
      if (!fromFile) return null;
      let base = path.dirname(fromPath);
      for (let i = 1; i < level; i++) base = path.dirname(base);
      return this.find(base, parts);
    }
    const folders: string[] = [];
    if (fromFile) {
      const root = this.engine.rootOf(fromPath);
      for (let dir = path.dirname(fromPath); ; dir = path.dirname(dir)) {
        folders.push(dir);
        if (!root || dir === root || path.dirname(dir) === dir) break;
      }
    }
    for (const root of this.engine.workspaceRoots()) if (!folders.includes(root)) folders.push(root);
    for (const folder of folders) {
      const found = this.find(folder, parts);
      if (found) return found;
    }
    return null;
  }

  private find(base: string, parts: readonly string[]): SourceFile | null {
    if (parts.length === 0) return this.engine.fileAt(path.join(base, '__init__.py'));
    const joined = path.join(base, ...parts);
    return this.engine.fileAt(`${joined}.py`) ?? this.engine.fileAt(path.join(joined, '__init__.py'));
  }
}

/** `nn.ConvTranspose2d` from `nn.ConvTranspose2d(64, 32, 4)`: the constructor as the user wrote it. */
function calleeText(file: SourceFile, layer: { from: number; to: number; className: string }): string {
  const text = file.text.slice(layer.from, layer.to);
  const open = text.indexOf('(');
  const callee = (open >= 0 ? text.slice(0, open) : text).replace(/\s+/g, '');
  return /^[A-Za-z_][\w.]*$/.test(callee) ? callee : layer.className;
}

/** Nodes a layer constructor may sit in and still belong to the name the whole expression is assigned to. */
const WRAPPERS = new Set([
  'ArgList',
  'ArrayExpression',
  'TupleExpression',
  'ArrayComprehensionExpression',
  'DictionaryExpression',
  'ParenthesizedExpression',
  'CallExpression',
]);

interface Binding {
  layers: number[];
  container: boolean;
}

/**
 * The calls that apply the file's layers by name: `self.conv(x)` where `self.conv = nn.Conv2d(…)` in the same
 * class, `conv(x)` where `conv = nn.Conv2d(…)` in the same function or at module level, `self.main(z)` where
 * `self.main = nn.Sequential(nn.ConvTranspose2d(…), …)`, and a constructor applied at once
 * (`layers.Conv2D(32, 3)(x)`).
 */
export function layerCalls(file: SourceFile, layers: readonly EditorLayer[]): EditorCall[] {
  const bindings = new Map<string, Binding>();
  const calls: EditorCall[] = [];
  // Calls whose callee is itself a constructor expression: `nn.Conv2d(…)(x)`, `nn.Sequential(…)(x)`.
  const inline = new Map<string, Binding>();
  layers.forEach((layer, index) => {
    const node = callNodeAt(file, layer.from, layer.to);
    if (!node) return;
    let current = node;
    let wrapped = false;
    for (let parent = current.parent; parent; current = parent, parent = parent.parent) {
      if (parent.name === 'CallExpression' && parent.firstChild?.from === current.from) {
        bind(inline, `${parent.from}:${parent.to}`, index, wrapped);
        return;
      }
      if (parent.name === 'AssignStatement') {
        const target = parent.firstChild;
        if (!target || target.from === current.from) return;
        const key = bindingKey(file, target);
        if (key) bind(bindings, key, index, wrapped);
        return;
      }
      if (!WRAPPERS.has(parent.name)) return;
      wrapped = true;
    }
  });

  file.tree.iterate({
    enter: (ref) => {
      if (ref.name !== 'CallExpression') return;
      const node = ref.node;
      const callee = node.firstChild;
      if (!callee) return;
      const statement = statementOf(node);
      const range = {
        from: node.from,
        to: node.to,
        statementFrom: statement?.from ?? node.from,
        statementTo: statement?.to ?? node.to,
      };
      const applied = inline.get(`${node.from}:${node.to}`);
      if (applied) {
        const first = layers[applied.layers[0]!]!;
        calls.push({
          ...range,
          name: applied.container ? file.textOf(callee).split('(')[0]!.replace(/\s+/g, '') : first.callee,
          layers: applied.layers,
          container: applied.container,
        });
        return;
      }
      for (const key of useKeys(file, callee)) {
        const binding = bindings.get(key);
        if (!binding) continue;
        calls.push({
          ...range,
          name: file.textOf(callee).replace(/\s+/g, ''),
          layers: binding.layers,
          container: binding.container,
        });
        return;
      }
    },
  });
  return calls;
}

function bind<K>(map: Map<K, Binding>, key: K, index: number, wrapped: boolean): void {
  const binding = map.get(key) ?? { layers: [], container: false };
  binding.layers.push(index);
  binding.container ||= wrapped;
  map.set(key, binding);
}

function callNodeAt(file: SourceFile, from: number, to: number): SyntaxNode | null {
  for (let node: SyntaxNode | null = file.tree.resolveInner(from, 1); node; node = node.parent) {
    if (node.name === 'CallExpression' && node.from === from && node.to === to) return node;
    if (node.from < from) break;
  }
  return null;
}

/** Statements with a body: their range is a whole block, too wide to stand for one call. */
const COMPOUND = new Set([
  'IfStatement',
  'ForStatement',
  'WhileStatement',
  'WithStatement',
  'TryStatement',
  'MatchStatement',
  'DecoratedStatement',
]);

/** The simple statement (assignment, return, expression) a call stands in, if it stands in one. */
function statementOf(node: SyntaxNode): SyntaxNode | null {
  for (let current: SyntaxNode | null = node; current; current = current.parent) {
    if (COMPOUND.has(current.name)) return null;
    if (current.name.endsWith('Statement')) return current;
    if (current.name === 'Body' || current.name === 'Script') return null;
  }
  return null;
}

/** `self.name` of the enclosing class, or a plain name in the enclosing function (or module). */
function bindingKey(file: SourceFile, target: SyntaxNode): string | null {
  if (target.name === 'VariableName') return `${scopeOf(target)}:${file.textOf(target)}`;
  const attribute = selfAttribute(file, target);
  if (attribute === null) return null;
  const cls = enclosing(target, 'ClassDefinition');
  return cls ? `class@${cls.from}:${attribute}` : null;
}

/** The keys a call's callee may be bound under, innermost scope first. */
function useKeys(file: SourceFile, callee: SyntaxNode): string[] {
  if (callee.name === 'VariableName') {
    const name = file.textOf(callee);
    const keys: string[] = [];
    for (let node: SyntaxNode | null = callee.parent; node; node = node.parent) {
      if (node.name === 'FunctionDefinition') keys.push(`fn@${node.from}:${name}`);
    }
    keys.push(`module:${name}`);
    return keys;
  }
  const attribute = selfAttribute(file, callee);
  const cls = enclosing(callee, 'ClassDefinition');
  return attribute !== null && cls ? [`class@${cls.from}:${attribute}`] : [];
}

function selfAttribute(file: SourceFile, node: SyntaxNode): string | null {
  if (node.name !== 'MemberExpression') return null;
  const object = node.firstChild;
  const property = node.lastChild;
  if (object?.name !== 'VariableName' || file.textOf(object) !== 'self') return null;
  if (property?.name !== 'PropertyName') return null;
  return file.textOf(property);
}

function scopeOf(node: SyntaxNode): string {
  const fn = enclosing(node, 'FunctionDefinition');
  return fn ? `fn@${fn.from}` : 'module';
}

function enclosing(node: SyntaxNode, name: string): SyntaxNode | null {
  for (let current = node.parent; current; current = current.parent)
    if (current.name === name) return current;
  return null;
}
