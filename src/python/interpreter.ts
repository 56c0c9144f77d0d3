/**
 * A small abstract interpreter for the parts of Python that build models and move tensors through them.
 * It runs module code, class bodies, `__init__` and `forward`/`__call__` with real values where they are known
 * (ints, strings, tuples, layers, modules) and shapes for tensors, and records every layer call it sees.
 *
 * Soundness over reach: what it cannot know becomes `unknown` and stays so; an `if` whose condition is unknown
 * runs both sides and keeps only what they agree on; a loop over an unknown sequence is not run at all. Work is
 * capped (steps, call depth, loop length, wall time), so no input can stall a caller.
 */
import { SourceFile, type SyntaxNode, children, splitAt } from './syntax';
import {
  type CallArguments,
  type ClassValue,
  type ObjectValue,
  type Site,
  type Value,
  bool,
  describeValue,
  float,
  int,
  joinValues,
  keyOf,
  NONE,
  Scope,
  str,
  truthy,
  tuple,
  UNKNOWN,
} from './values';
import type { Library } from './library';
import { isStubPath, STUB_MODULES, stubModuleName, stubPath } from './stubs';

/** Limits on one analysis. */
export interface Budget {
  /** Evaluation steps (statements + expressions). */
  readonly steps: number;
  /** Nested calls. */
  readonly depth: number;
  /** Iterations of one loop. */
  readonly loopIterations: number;
  /** Wall-clock milliseconds. */
  readonly milliseconds: number;
}

/** Deepest nesting of expressions and statements evaluated (deeper code is unknown): keeps the JS stack safe. */
const MAX_NESTING = 400;

export const DEFAULT_BUDGET: Budget = {
  steps: 2_000_000,
  depth: 80,
  loopIterations: 20_000,
  milliseconds: 5_000,
};

/** Thrown when the budget runs out; caught by the analysis entry points, which keep what was found. */
export class BudgetExceeded extends Error {}

/**
 * Thrown at a certain shape error when the library is asked to stop there (Library.stopAtFirstError), as the
 * framework raises and a real forward pass ends. It travels like BudgetExceeded, so every entry point keeps
 * what was found before it.
 */
export class ForwardPassStopped extends BudgetExceeded {}

/** Python exceptions the analysed code raises are not modelled: `raise` ends the function with unknown. */
class RaiseSignal {
  constructor(readonly message: string | null) {}
}

type Completion =
  | { readonly type: 'normal' }
  | { readonly type: 'return'; readonly value: Value }
  | { readonly type: 'break' }
  | { readonly type: 'continue' };

const NORMAL: Completion = { type: 'normal' };

/** What a function call frame keeps: returns seen on one side of an unknown `if`, to join at the end. */
interface Frame {
  pendingReturns: Value[];
}

/** Finds and reads other Python files of the workspace for imports. */
export interface ModuleLoader {
  /**
   * Resolves a module imported from `fromPath`: `level` is the number of leading dots (0 for absolute imports).
   * Returns null when the module is not a file of the workspace (third-party, or missing).
   */
  resolve(fromPath: string, moduleName: string, level: number): SourceFile | null;
}

export class Interpreter {
  private steps = 0;
  private depth = 0;
  private readonly deadline: number;
  private readonly moduleCache = new Map<string, Scope>();
  private nextId = 1;
  readonly builtins: Scope;

  constructor(
    readonly library: Library,
    readonly loader: ModuleLoader | null,
    readonly budget: Budget = DEFAULT_BUDGET,
  ) {
    this.deadline = Date.now() + budget.milliseconds;
    this.builtins = library.builtins(this);
  }

  newId(): number {
    return this.nextId++;
  }

  /** Counts one step of work and stops the analysis when the budget is spent. */
  tick(): void {
    this.steps++;
    if (this.steps > this.budget.steps || ((this.steps & 1023) === 0 && Date.now() > this.deadline)) {
      throw new BudgetExceeded('The analysis took too long and stopped; results so far are kept.');
    }
  }

  // ------------------------------------------------------------------------------------------------ modules

  /** Runs a file's top-level code once (cached by path) and returns its module scope. */
  runModule(file: SourceFile, asMain: boolean): Scope {
    const cached = this.moduleCache.get(file.path);
    if (cached) return cached;
    const scope = new Scope(this.builtins);
    this.moduleCache.set(file.path, scope);
    scope.names.set('__name__', str(asMain ? '__main__' : moduleNameOf(file.path)));
    scope.names.set('__file__', str(file.path));
    const frame: Frame = { pendingReturns: [] };
    for (const statement of children(file.tree.topNode)) {
      try {
        this.execStatement(statement, scope, file, frame);
      } catch (error) {
        if (error instanceof BudgetExceeded) throw error;
        if (error instanceof RaiseSignal) continue;
        throw error;
      }
    }
    return scope;
  }

  // --------------------------------------------------------------------------------------------- statements

  execBlock(nodes: readonly SyntaxNode[], scope: Scope, file: SourceFile, frame: Frame): Completion {
    for (const node of nodes) {
      const completion = this.execStatement(node, scope, file, frame);
      if (completion.type !== 'normal') return completion;
    }
    return NORMAL;
  }

  private body(node: SyntaxNode): SyntaxNode[] {
    return children(node).filter((child) => child.name !== ':');
  }

  execStatement(node: SyntaxNode, scope: Scope, file: SourceFile, frame: Frame): Completion {
    this.tick();
    if (this.nesting > MAX_NESTING) return NORMAL;
    this.nesting++;
    try {
      return this.execNode(node, scope, file, frame);
    } finally {
      this.nesting--;
    }
  }

  private execNode(node: SyntaxNode, scope: Scope, file: SourceFile, frame: Frame): Completion {
    switch (node.name) {
      case 'ExpressionStatement': {
        const expression = node.firstChild;
        if (expression) this.eval(expression, scope, file);
        return NORMAL;
      }
      case 'AssignStatement':
        this.execAssign(node, scope, file);
        return NORMAL;
      case 'UpdateStatement':
        this.execUpdate(node, scope, file);
        return NORMAL;
      case 'ReturnStatement': {
        const parts = children(node).slice(1);
        const value = parts.length === 0 ? NONE : this.evalList(parts, scope, file);
        this.library.recordAssignment(file, node, value);
        return { type: 'return', value };
      }
      case 'IfStatement':
        return this.execIf(node, scope, file, frame);
      case 'ForStatement':
        return this.execFor(node, scope, file, frame);
      case 'WhileStatement':
        return this.execWhile(node, scope, file, frame);
      case 'FunctionDefinition':
        this.defineFunction(node, scope, file, []);
        return NORMAL;
      case 'ClassDefinition':
        this.defineClass(node, scope, file, []);
        return NORMAL;
      case 'DecoratedStatement':
        this.execDecorated(node, scope, file);
        return NORMAL;
      case 'ImportStatement':
        this.execImport(node, scope, file);
        return NORMAL;
      case 'WithStatement': {
        const bodyNode = node.getChild('Body');
        // `with torch.no_grad():` and friends: the body runs once; `as` targets are unknown.
        const items = children(node);
        for (let i = 0; i < items.length; i++) {
          if (items[i]!.name === 'as' && items[i + 1]) this.assignTarget(items[i + 1]!, UNKNOWN, scope, file);
        }
        return bodyNode ? this.execBlock(this.body(bodyNode), scope, file, frame) : NORMAL;
      }
      case 'TryStatement': {
        // The try body runs; handlers are not (exceptions are not modelled), `finally` and `else` run.
        const parts = children(node);
        let completion: Completion = NORMAL;
        for (let i = 0; i < parts.length; i++) {
          const part = parts[i]!;
          if (part.name !== 'Body') continue;
          const keyword = parts
            .slice(0, i)
            .reverse()
            .find((p) => ['try', 'except', 'else', 'finally'].includes(p.name));
          if (keyword?.name === 'except') continue;
          try {
            completion = this.execBlock(this.body(part), scope, file, frame);
          } catch (error) {
            if (!(error instanceof RaiseSignal)) throw error;
          }
          if (completion.type !== 'normal') return completion;
        }
        return completion;
      }
      case 'RaiseStatement':
        throw new RaiseSignal(file.textOf(node));
      case 'PassStatement':
      case 'AssertStatement':
      case 'GlobalStatement':
      case 'NonlocalStatement':
      case 'Comment':
        return NORMAL;
      case 'BreakStatement':
        return { type: 'break' };
      case 'ContinueStatement':
        return { type: 'continue' };
      case 'DeleteStatement':
        for (const target of children(node).slice(1)) {
          if (target.name === 'VariableName') scope.names.delete(file.textOf(target));
        }
        return NORMAL;
      case 'StatementGroup':
        return this.execBlock(
          children(node).filter((c) => c.name !== ';'),
          scope,
          file,
          frame,
        );
      default:
        return NORMAL;
    }
  }

  private execAssign(node: SyntaxNode, scope: Scope, file: SourceFile): void {
    // `a = b = value`, `a, b = value`, `x: int = 3`: groups separated by `=`; the last is the value.
    const parts = children(node).filter((child) => child.name !== 'TypeDef');
    const groups: SyntaxNode[][] = [[]];
    for (const part of parts) {
      if (part.name === 'AssignOp') groups.push([]);
      else groups[groups.length - 1]!.push(part);
    }
    if (groups.length < 2) return; // An annotation without a value (`x: int`).
    const value = this.evalList(groups[groups.length - 1]!, scope, file);
    for (const target of groups.slice(0, -1)) this.assignTargets(target, value, scope, file);
    this.library.recordAssignment(file, node, value);
  }

  private execUpdate(node: SyntaxNode, scope: Scope, file: SourceFile): void {
    const [target, op, valueNode] = children(node);
    if (!target || !op || !valueNode) return;
    const current = this.eval(target, scope, file);
    const operand = this.eval(valueNode, scope, file);
    const operator = file.textOf(op).slice(0, -1);
    this.assignTarget(target, this.library.binary(operator, current, operand, this), scope, file);
  }

  /** Assigns to a comma-separated target list (`a, (b, c)`, `*rest`). */
  assignTargets(targets: readonly SyntaxNode[], value: Value, scope: Scope, file: SourceFile): void {
    const groups = splitAt(targets);
    if (groups.length === 1 && groups[0]!.length === 1) {
      this.assignTarget(groups[0]![0]!, value, scope, file);
      return;
    }
    this.unpack(
      groups.filter((group) => group.length > 0),
      value,
      scope,
      file,
    );
  }

  private unpack(groups: SyntaxNode[][], value: Value, scope: Scope, file: SourceFile): void {
    const items = this.library.iterate(value, this);
    const starIndex = groups.findIndex((group) => group[0]?.name === '*');
    groups.forEach((group, index) => {
      if (group[0]?.name === '*') {
        const target = group[1];
        if (!target) return;
        const rest = items ? items.slice(index, items.length - (groups.length - 1 - index)) : undefined;
        this.assignTarget(target, rest ? { kind: 'list', items: [...rest] } : UNKNOWN, scope, file);
        return;
      }
      let item: Value = UNKNOWN;
      if (items) {
        const position = starIndex >= 0 && index > starIndex ? items.length - (groups.length - index) : index;
        item = items[position] ?? UNKNOWN;
      }
      this.assignTarget(group[0]!, item, scope, file);
    });
  }

  assignTarget(target: SyntaxNode, value: Value, scope: Scope, file: SourceFile): void {
    switch (target.name) {
      case 'VariableName':
        scope.names.set(file.textOf(target), value);
        return;
      case 'TupleExpression':
      case 'ArrayExpression':
      case 'ParenthesizedExpression': {
        const inner = children(target).filter((c) => !['(', ')', '[', ']'].includes(c.name));
        this.assignTargets(inner, value, scope, file);
        return;
      }
      case 'MemberExpression': {
        const parts = children(target);
        const object = this.eval(parts[0]!, scope, file);
        if (parts[1]?.name === '.') {
          const property = parts[2];
          if (property) this.library.setAttribute(object, file.textOf(property), value, this);
        } else {
          const index = this.evalSubscript(parts.slice(1), scope, file);
          this.library.setItem(object, index, value, this);
        }
        return;
      }
      default:
        return;
    }
  }

  private execIf(node: SyntaxNode, scope: Scope, file: SourceFile, frame: Frame): Completion {
    // Branches: [condition, body] pairs, then an optional else body.
    const parts = children(node);
    const branches: { condition: SyntaxNode | null; body: SyntaxNode }[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if ((part.name === 'if' || part.name === 'elif') && parts[i + 1] && parts[i + 2]?.name === 'Body') {
        branches.push({ condition: parts[i + 1]!, body: parts[i + 2]! });
      } else if (part.name === 'else' && parts[i + 1]?.name === 'Body') {
        branches.push({ condition: null, body: parts[i + 1]! });
      }
    }
    return this.execBranches(branches, scope, file, frame);
  }

  private execBranches(
    branches: readonly { condition: SyntaxNode | null; body: SyntaxNode }[],
    scope: Scope,
    file: SourceFile,
    frame: Frame,
  ): Completion {
    const [first, ...rest] = branches;
    if (!first) return NORMAL;
    if (first.condition === null) return this.execBlock(this.body(first.body), scope, file, frame);
    const decided = truthy(this.eval(first.condition, scope, file));
    if (decided === true) return this.execBlock(this.body(first.body), scope, file, frame);
    if (decided === false) return this.execBranches(rest, scope, file, frame);
    // Unknown condition: run both sides on copies of the scope and keep what they agree on.
    const before = new Map(scope.names);
    const thenCompletion = this.guarded(() => this.execBlock(this.body(first.body), scope, file, frame));
    const thenNames = new Map(scope.names);
    scope.names.clear();
    for (const [name, value] of before) scope.names.set(name, value);
    const elseCompletion = this.guarded(() => this.execBranches(rest, scope, file, frame));
    const elseNames = new Map(scope.names);
    const thenFalls = thenCompletion.type === 'normal';
    const elseFalls = elseCompletion.type === 'normal';
    if (thenFalls && elseFalls) {
      scope.names.clear();
      for (const name of new Set([...thenNames.keys(), ...elseNames.keys()])) {
        const a = thenNames.get(name);
        const b = elseNames.get(name);
        scope.names.set(name, a && b ? joinValues(a, b) : UNKNOWN);
      }
      return NORMAL;
    }
    if (thenFalls || elseFalls) {
      // One side left the function (or loop); execution goes on with the other side's names.
      const abrupt = thenFalls ? elseCompletion : thenCompletion;
      if (abrupt.type === 'return') frame.pendingReturns.push(abrupt.value);
      scope.names.clear();
      for (const [name, value] of thenFalls ? thenNames : elseNames) scope.names.set(name, value);
      return NORMAL;
    }
    if (thenCompletion.type === 'return' && elseCompletion.type === 'return') {
      return { type: 'return', value: joinValues(thenCompletion.value, elseCompletion.value) };
    }
    return thenCompletion;
  }

  /** Runs one side of an unknown branch; a `raise` there only ends that side. */
  private guarded(run: () => Completion): Completion {
    try {
      return this.speculatively(run);
    } catch (error) {
      if (error instanceof RaiseSignal) return { type: 'return', value: UNKNOWN };
      throw error;
    }
  }

  /**
   * How many unknown conditions the running code is nested in. Code run under one may not run for real, so what
   * it does must not end the analysis (see Library.stopAtFirstError).
   */
  speculative = 0;

  private speculatively<T>(run: () => T): T {
    this.speculative++;
    try {
      return run();
    } finally {
      this.speculative--;
    }
  }

  private execFor(node: SyntaxNode, scope: Scope, file: SourceFile, frame: Frame): Completion {
    const parts = children(node);
    const inIndex = parts.findIndex((part) => part.name === 'in');
    const bodies = parts.filter((part) => part.name === 'Body');
    if (inIndex < 0 || bodies.length === 0) return NORMAL;
    const targets = parts.slice(1, inIndex);
    const iterable = this.evalList(parts.slice(inIndex + 1, parts.indexOf(bodies[0]!)), scope, file);
    const items = this.library.iterate(iterable, this);
    if (!items) {
      // An unknown sequence: the body is not run, and what it assigns becomes unknown.
      this.forgetAssigned(bodies[0]!, scope, file);
      for (const target of targets) this.forgetTarget(target, scope, file);
      return NORMAL;
    }
    let iterations = 0;
    for (const item of items) {
      if (++iterations > this.budget.loopIterations) throw new BudgetExceeded('A loop ran too long.');
      this.assignTargets(targets, item, scope, file);
      const completion = this.execBlock(this.body(bodies[0]!), scope, file, frame);
      if (completion.type === 'break') return NORMAL;
      if (completion.type === 'return') return completion;
    }
    if (bodies[1]) return this.execBlock(this.body(bodies[1]), scope, file, frame);
    return NORMAL;
  }

  private execWhile(node: SyntaxNode, scope: Scope, file: SourceFile, frame: Frame): Completion {
    const parts = children(node);
    const condition = parts[1];
    const bodyNode = parts.find((part) => part.name === 'Body');
    if (!condition || !bodyNode) return NORMAL;
    for (let iterations = 0; ; iterations++) {
      if (iterations > this.budget.loopIterations) throw new BudgetExceeded('A loop ran too long.');
      const decided = truthy(this.eval(condition, scope, file));
      if (decided === false) return NORMAL;
      if (decided === undefined) {
        this.forgetAssigned(bodyNode, scope, file);
        return NORMAL;
      }
      const completion = this.execBlock(this.body(bodyNode), scope, file, frame);
      if (completion.type === 'break') return NORMAL;
      if (completion.type === 'return') return completion;
    }
  }

  /** Marks every plain name a block assigns as unknown (for blocks that cannot be run). */
  private forgetAssigned(block: SyntaxNode, scope: Scope, file: SourceFile): void {
    const cursor = block.cursor();
    do {
      if (cursor.name === 'AssignStatement' || cursor.name === 'UpdateStatement') {
        const first = cursor.node.firstChild;
        if (first) this.forgetTarget(first, scope, file);
      }
    } while (cursor.next() && cursor.from < block.to);
  }

  private forgetTarget(target: SyntaxNode, scope: Scope, file: SourceFile): void {
    if (target.name === 'VariableName') scope.names.set(file.textOf(target), UNKNOWN);
  }

  /**
   * `@decorator` definitions. Decorators are evaluated (in the defining scope, outermost first, as Python does)
   * and applied innermost first. A decorator the interpreter can follow (a workspace function, a stand-in's
   * wrapper) is called with the definition; one it cannot (a library name such as `torch.jit.unused`,
   * `register_model()` of an unknown package) leaves the definition as it is: decorators of model code wrap
   * or register functions and classes, they do not change what the layers compute.
   */
  private execDecorated(node: SyntaxNode, scope: Scope, file: SourceFile): void {
    const decorators: string[] = [];
    const expressions: SyntaxNode[] = [];
    let definition: SyntaxNode | null = null;
    for (const part of children(node)) {
      if (part.name === 'Decorator') {
        const inner = children(part).filter((c) => c.name !== 'At');
        decorators.push(
          inner
            .map((c) => file.textOf(c))
            .join('')
            .trim(),
        );
        // `@a.b(c)` is one expression whose parts the parser lists one by one: evaluate the decorator's text
        // span as written, from its first node to its last.
        if (inner.length > 0) expressions.push(part);
      } else if (part.name === 'FunctionDefinition' || part.name === 'ClassDefinition') {
        definition = part;
      }
    }
    if (!definition) return;
    const applied = expressions.map((decorator) => this.evalDecorator(decorator, scope, file));
    const name = definition.getChild('VariableName');
    if (definition.name === 'FunctionDefinition') this.defineFunction(definition, scope, file, decorators);
    else this.defineClass(definition, scope, file, decorators);
    if (!name) return;
    const nameText = file.textOf(name);
    let value = scope.names.get(nameText);
    if (value === undefined) return;
    for (let i = applied.length - 1; i >= 0; i--) {
      const decorator = applied[i]!;
      if (!['function', 'bound', 'partial'].includes(decorator.kind)) continue;
      const result = this.call(decorator, { positional: [value], keyword: new Map(), site: null });
      if (result.kind !== 'unknown') value = result;
    }
    scope.names.set(nameText, value);
  }

  /** The value of a decorator expression (`@name`, `@a.b`, `@a.b(args)`), or unknown. */
  private evalDecorator(decorator: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const inner = children(decorator).filter((c) => c.name !== 'At');
    let value: Value = UNKNOWN;
    for (let i = 0; i < inner.length; i++) {
      const part = inner[i]!;
      if (i === 0) value = this.eval(part, scope, file);
      else if (part.name === '.' && inner[i + 1])
        value = this.library.attribute(value, file.textOf(inner[++i]!), this);
      else if (part.name === 'ArgList') {
        const args = this.evalArguments(part, scope, file);
        value = this.call(value, { ...args, site: { file, from: inner[0]!.from, to: part.to } });
      }
    }
    return value;
  }

  private defineFunction(node: SyntaxNode, scope: Scope, file: SourceFile, decorators: string[]): void {
    const nameNode = node.getChild('VariableName');
    if (!nameNode) return;
    const name = file.textOf(nameNode);
    const fn: Value = { kind: 'function', name, node, file, closure: scope, decorators };
    // Defaults are evaluated once, at definition time, in the defining scope (as Python does).
    this.functionDefaults.set(node, this.evalDefaults(node.getChild('ParamList'), scope, file));
    scope.names.set(name, fn);
  }

  private readonly functionDefaults = new WeakMap<SyntaxNode, Map<string, Value>>();
  /** The class each method was defined in. */
  private readonly methodOwners = new WeakMap<SyntaxNode, ClassValue>();

  private evalDefaults(params: SyntaxNode | null, scope: Scope, file: SourceFile): Map<string, Value> {
    const defaults = new Map<string, Value>();
    if (!params) return defaults;
    const parts = children(params);
    for (let i = 0; i < parts.length; i++) {
      if (parts[i]!.name === 'AssignOp' && parts[i + 1]) {
        const nameNode = parts
          .slice(0, i)
          .reverse()
          .find((p) => p.name === 'VariableName');
        if (nameNode) defaults.set(file.textOf(nameNode), this.eval(parts[i + 1]!, scope, file));
      }
    }
    return defaults;
  }

  private defineClass(node: SyntaxNode, scope: Scope, file: SourceFile, decorators: string[]): void {
    const nameNode = node.getChild('VariableName');
    if (!nameNode) return;
    const argList = node.getChild('ArgList');
    const bases = argList
      ? splitAt(children(argList).filter((c) => c.name !== '(' && c.name !== ')'))
          .filter((group) => group.length === 1)
          .map((group) => this.eval(group[0]!, scope, file))
      : [];
    const cls: ClassValue = {
      kind: 'class',
      name: file.textOf(nameNode),
      file,
      node,
      bases,
      attrs: new Map(),
      fields: [],
    };
    const classScope = new Scope(scope);
    const bodyNode = node.getChild('Body');
    if (bodyNode) {
      for (const statement of this.body(bodyNode)) {
        // Class-level annotated names are dataclass fields (Flax modules are dataclasses).
        if (statement.name === 'AssignStatement' && statement.getChild('TypeDef')) {
          const target = statement.firstChild;
          if (target?.name === 'VariableName') {
            const hasValue = statement.getChild('AssignOp') !== null;
            const fieldName = file.textOf(target);
            const defaultValue = hasValue
              ? this.evalList(children(statement).slice(-1), classScope, file)
              : undefined;
            cls.fields.push({ name: fieldName, default: defaultValue });
            if (defaultValue !== undefined) classScope.names.set(fieldName, defaultValue);
            continue;
          }
        }
        try {
          this.execStatement(statement, classScope, file, { pendingReturns: [] });
        } catch (error) {
          if (!(error instanceof RaiseSignal)) throw error;
        }
      }
    }
    for (const [name, value] of classScope.names) {
      cls.attrs.set(name, value);
      if (value.kind === 'function' && value.node.parent === bodyNode) this.methodOwners.set(value.node, cls);
    }
    scope.names.set(cls.name, this.library.decorateClass(cls, decorators, this));
  }

  private execImport(node: SyntaxNode, scope: Scope, file: SourceFile): void {
    const parts = children(node);
    if (parts[0]?.name === 'from') {
      // from .a.b import c as d, e   |   from x import *
      const importIndex = parts.findIndex((p) => p.name === 'import');
      const source = parts.slice(1, importIndex);
      const leadingDots = source.findIndex((p) => p.name === 'VariableName');
      const prefix = leadingDots < 0 ? source : source.slice(0, leadingDots);
      const level = prefix.reduce((n, p) => n + (p.name === 'Ellipsis' ? 3 : p.name === '.' ? 1 : 0), 0);
      const moduleName = source
        .slice(leadingDots < 0 ? source.length : leadingDots)
        .map((p) => file.textOf(p))
        .join('');
      const moduleScope = this.importModule(file, moduleName, level);
      const names = parts.slice(importIndex + 1).filter((p) => p.name !== '(' && p.name !== ')');
      if (names.some((p) => p.name === '*')) {
        if (moduleScope instanceof Scope) {
          for (const [name, value] of moduleScope.names)
            if (!name.startsWith('_')) scope.names.set(name, value);
        }
        return;
      }
      for (const group of splitAt(names)) {
        const imported = group[0];
        if (!imported) continue;
        const asIndex = group.findIndex((p) => p.name === 'as');
        const alias =
          asIndex >= 0 && group[asIndex + 1] ? file.textOf(group[asIndex + 1]!) : file.textOf(imported);
        const name = file.textOf(imported);
        let value: Value;
        if (moduleScope instanceof Scope) {
          value = moduleScope.names.get(name) ?? this.importModuleValue(file, `${moduleName}.${name}`, level);
        } else {
          value = this.library.attribute(moduleScope, name, this);
        }
        scope.names.set(alias, value);
      }
      return;
    }
    // import a.b.c [as d], e
    for (const group of splitAt(parts.slice(1))) {
      const asIndex = group.findIndex((p) => p.name === 'as');
      const dotted = (asIndex >= 0 ? group.slice(0, asIndex) : group).map((p) => file.textOf(p)).join('');
      if (!dotted) continue;
      if (asIndex >= 0 && group[asIndex + 1]) {
        scope.names.set(file.textOf(group[asIndex + 1]!), this.importModuleValue(file, dotted, 0));
      } else {
        const root = dotted.split('.')[0]!;
        scope.names.set(root, this.importModuleValue(file, root, 0));
      }
    }
  }

  /** A module as a value: a workspace file's scope (as an object-like namespace) or a library namespace. */
  private importModuleValue(file: SourceFile, dotted: string, level: number): Value {
    const imported = this.importModule(file, dotted, level);
    if (imported instanceof Scope) return this.library.moduleObject(imported, dotted, this);
    return imported;
  }

  /** Runs a workspace module, or returns a library namespace for third-party ones. */
  private importModule(file: SourceFile, dotted: string, level: number): Scope | Value {
    if (level === 0 && this.library.isLibraryModule(dotted)) {
      const stub = stubModuleName(dotted, 0);
      return stub ? this.runStub(stub) : { kind: 'namespace', path: dotted };
    }
    const target = isStubPath(file.path) ? null : this.loader?.resolve(file.path, dotted, level);
    if (target) {
      try {
        return this.runModule(target, false);
      } catch (error) {
        if (error instanceof BudgetExceeded) throw error;
        return UNKNOWN;
      }
    }
    if (level > 0) {
      // A relative import no workspace file answers: a library file copied out of its package
      // (`from ..ops.misc import Conv2dNormActivation` in torchvision/models/mobilenetv3.py).
      const stub = stubModuleName(dotted, level);
      return stub ? this.runStub(stub) : UNKNOWN;
    }
    return { kind: 'namespace', path: dotted };
  }

  private readonly stubFiles = new Map<string, SourceFile>();

  /** A name defined by a library stand-in (stubs.ts), or undefined. */
  stubValue(module: string, name: string): Value | undefined {
    return STUB_MODULES.has(module) ? this.runStub(module).names.get(name) : undefined;
  }

  /** Runs a library stand-in (stubs.ts) once and returns its scope. */
  private runStub(name: string): Scope {
    let stub = this.stubFiles.get(name);
    if (!stub) {
      stub = new SourceFile(stubPath(name), STUB_MODULES.get(name)!);
      this.stubFiles.set(name, stub);
    }
    return this.runModule(stub, false);
  }

  // -------------------------------------------------------------------------------------------- expressions

  /** Evaluates a comma-separated expression list: one item is itself, several make a tuple. */
  evalList(nodes: readonly SyntaxNode[], scope: Scope, file: SourceFile): Value {
    const groups = splitAt(nodes).filter((group) => group.length > 0);
    if (groups.length === 1 && nodes.every((n) => n.name !== ',') && groups[0]![0]!.name !== '*') {
      return this.eval(groups[0]![0]!, scope, file);
    }
    return tuple(this.evalStarred(groups, scope, file));
  }

  /** Evaluates groups that may start with `*` (unpacking). */
  private evalStarred(groups: readonly SyntaxNode[][], scope: Scope, file: SourceFile): Value[] {
    const items: Value[] = [];
    for (const group of groups) {
      if (group[0]?.name === '*' && group[1]) {
        const spread = this.library.iterate(this.eval(group[1], scope, file), this);
        if (spread) items.push(...spread);
        else items.push(UNKNOWN);
      } else if (group[0]) {
        items.push(this.eval(group[0], scope, file));
      }
    }
    return items;
  }

  /** How deeply expressions and statements are nested right now; JS recursion must stay well below its limit. */
  private nesting = 0;

  eval(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    this.tick();
    if (this.nesting > MAX_NESTING) return UNKNOWN;
    this.nesting++;
    try {
      return this.evalNode(node, scope, file);
    } finally {
      this.nesting--;
    }
  }

  private evalNode(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    switch (node.name) {
      case 'Number':
        return parseNumber(file.textOf(node));
      case 'String':
        return str(parseStringLiteral(file.textOf(node)));
      case 'FormatString':
        return this.evalFormatString(node, scope, file);
      case 'ContinuedString': {
        let text = '';
        for (const part of children(node)) {
          const value = this.eval(part, scope, file);
          if (value.kind !== 'str') return UNKNOWN;
          text += value.value;
        }
        return str(text);
      }
      case 'Boolean':
        return bool(file.textOf(node) === 'True');
      case 'None':
        return NONE;
      case 'Ellipsis':
        return { kind: 'ellipsis' };
      case 'VariableName': {
        const name = file.textOf(node);
        return scope.lookup(name) ?? this.library.global(name, this) ?? UNKNOWN;
      }
      case 'self':
        return scope.lookup('self') ?? UNKNOWN;
      case 'ParenthesizedExpression': {
        const inner = children(node).filter((c) => c.name !== '(' && c.name !== ')');
        return inner.length === 0 ? tuple([]) : this.evalList(inner, scope, file);
      }
      case 'TupleExpression': {
        const inner = children(node).filter((c) => c.name !== '(' && c.name !== ')');
        return tuple(
          this.evalStarred(
            splitAt(inner).filter((g) => g.length > 0),
            scope,
            file,
          ),
        );
      }
      case 'ArrayExpression': {
        const inner = children(node).filter((c) => c.name !== '[' && c.name !== ']');
        return {
          kind: 'list',
          items: this.evalStarred(
            splitAt(inner).filter((g) => g.length > 0),
            scope,
            file,
          ),
        };
      }
      case 'SetExpression': {
        const inner = children(node).filter((c) => c.name !== '{' && c.name !== '}');
        return {
          kind: 'list',
          items: this.evalStarred(
            splitAt(inner).filter((g) => g.length > 0),
            scope,
            file,
          ),
        };
      }
      case 'DictionaryExpression':
        return this.evalDict(node, scope, file);
      case 'ArrayComprehensionExpression':
      case 'SetComprehensionExpression':
      case 'ComprehensionExpression':
        return this.evalComprehension(node, scope, file, 'list');
      case 'DictionaryComprehensionExpression':
        return this.evalComprehension(node, scope, file, 'dict');
      case 'MemberExpression':
        return this.evalMember(node, scope, file);
      case 'CallExpression':
        return this.evalCall(node, scope, file);
      case 'UnaryExpression': {
        const [op, operand] = children(node);
        if (!op || !operand) return UNKNOWN;
        return this.library.unary(file.textOf(op), this.eval(operand, scope, file), this);
      }
      case 'BinaryExpression':
        return this.evalBinary(node, scope, file);
      case 'ConditionalExpression': {
        const parts = children(node);
        const [thenNode, , condition, , elseNode] = parts;
        if (!thenNode || !condition || !elseNode) return UNKNOWN;
        const decided = truthy(this.eval(condition, scope, file));
        if (decided === true) return this.eval(thenNode, scope, file);
        if (decided === false) return this.eval(elseNode, scope, file);
        return this.speculatively(() =>
          joinValues(this.eval(thenNode, scope, file), this.eval(elseNode, scope, file)),
        );
      }
      case 'LambdaExpression':
        return this.makeLambda(node, scope, file);
      case 'AwaitExpression':
      case 'YieldExpression':
      case 'NamedExpression':
      default:
        return UNKNOWN;
    }
  }

  private evalFormatString(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const text = file.textOf(node);
    const quoteStart = text.search(/['"]/);
    const prefixLength = quoteStart;
    const quote =
      text.slice(quoteStart).startsWith('"""') || text.slice(quoteStart).startsWith("'''") ? 3 : 1;
    let result = '';
    let cursor = node.from + prefixLength + quote;
    const end = node.to - quote;
    for (const part of children(node)) {
      if (part.name !== 'FormatReplacement') continue;
      result += file.text.slice(cursor, part.from);
      const expression = children(part).find(
        (c) => !['{', '}', 'FormatConversion', 'FormatSpec', ':'].includes(c.name),
      );
      const value = expression ? this.eval(expression, scope, file) : UNKNOWN;
      const rendered = this.library.toStr(value);
      if (rendered === undefined) return UNKNOWN;
      result += rendered;
      cursor = part.to;
    }
    result += file.text.slice(cursor, end);
    return str(result.replace(/\{\{/g, '{').replace(/\}\}/g, '}'));
  }

  private evalDict(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const entries = new Map<string, { key: Value; value: Value }>();
    const inner = children(node).filter((c) => c.name !== '{' && c.name !== '}');
    for (const group of splitAt(inner)) {
      if (group.length === 0) continue;
      if (group[0]!.name === '**' && group[1]) {
        const spread = this.eval(group[1], scope, file);
        if (spread.kind === 'dict') for (const [k, v] of spread.entries) entries.set(k, v);
        continue;
      }
      const colon = group.findIndex((c) => c.name === ':');
      if (colon < 0 || !group[colon + 1]) continue;
      const key = this.eval(group[0]!, scope, file);
      const value = this.eval(group[colon + 1]!, scope, file);
      const keyText = keyOf(key);
      if (keyText !== undefined) entries.set(keyText, { key, value });
    }
    return { kind: 'dict', entries };
  }

  private evalComprehension(node: SyntaxNode, scope: Scope, file: SourceFile, kind: 'list' | 'dict'): Value {
    // [element for targets in iterable (if cond)* (for ...)*]
    const parts = children(node).filter((c) => !['[', ']', '{', '}', '(', ')'].includes(c.name));
    const firstFor = parts.findIndex((p) => p.name === 'for');
    if (firstFor < 0) return UNKNOWN;
    const element = parts.slice(0, firstFor);
    const clauses: { type: 'for' | 'if'; nodes: SyntaxNode[] }[] = [];
    for (const part of parts.slice(firstFor)) {
      if (part.name === 'for' || part.name === 'if') clauses.push({ type: part.name, nodes: [] });
      else clauses[clauses.length - 1]?.nodes.push(part);
    }
    const inner = new Scope(scope);
    const results: Value[] = [];
    const entries = new Map<string, { key: Value; value: Value }>();
    let unknown = false;
    const run = (index: number): void => {
      if (unknown) return;
      if (index === clauses.length) {
        if (kind === 'dict') {
          const colon = element.findIndex((c) => c.name === ':');
          const key = this.eval(element[0]!, inner, file);
          const value = element[colon + 1] ? this.eval(element[colon + 1]!, inner, file) : UNKNOWN;
          const keyText = keyOf(key);
          if (keyText === undefined) unknown = true;
          else entries.set(keyText, { key, value });
        } else {
          results.push(this.evalList(element, inner, file));
        }
        return;
      }
      const clause = clauses[index]!;
      if (clause.type === 'if') {
        const decided = truthy(this.evalList(clause.nodes, inner, file));
        if (decided === undefined) unknown = true;
        else if (decided) run(index + 1);
        return;
      }
      const inIndex = clause.nodes.findIndex((p) => p.name === 'in');
      const items = this.library.iterate(this.evalList(clause.nodes.slice(inIndex + 1), inner, file), this);
      if (!items) {
        unknown = true;
        return;
      }
      if (items.length > this.budget.loopIterations)
        throw new BudgetExceeded('A comprehension ran too long.');
      for (const item of items) {
        this.assignTargets(clause.nodes.slice(0, inIndex), item, inner, file);
        run(index + 1);
      }
    };
    run(0);
    if (unknown) return UNKNOWN;
    return kind === 'dict' ? { kind: 'dict', entries } : { kind: 'list', items: results };
  }

  private evalMember(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const parts = children(node);
    // The parser reads a float literal with a trailing dot (`64.`, `1.e-3`) as a member access of an int.
    if (parts[0]?.name === 'Number' && parts[1]?.name === '.') {
      const rest = parts[2] ? file.textOf(parts[2]) : '';
      if (rest === '' || /^[eE]\d+$/.test(rest)) return parseNumber(file.textOf(node));
    }
    const object = this.eval(parts[0]!, scope, file);
    if (parts[1]?.name === '.') {
      const property = parts[2];
      return property ? this.library.attribute(object, file.textOf(property), this) : UNKNOWN;
    }
    return this.library.getItem(object, this.evalSubscript(parts.slice(1), scope, file), this);
  }

  /** `[a]`, `[a, b]`, `[1:2, ..., None]`: one index value, or a tuple of them; `a:b:c` is a slice. */
  evalSubscript(parts: readonly SyntaxNode[], scope: Scope, file: SourceFile): Value {
    const inner = parts.filter((p) => p.name !== '[' && p.name !== ']');
    const groups = splitAt(inner);
    const items = groups.map((group) => {
      if (!group.some((p) => p.name === ':')) {
        return group.length === 0
          ? NONE
          : group[0]!.name === '*'
            ? UNKNOWN
            : this.eval(group[0]!, scope, file);
      }
      const sections: (SyntaxNode | null)[] = [null, null, null];
      let section = 0;
      for (const p of group) {
        if (p.name === ':') section++;
        else if (section < 3) sections[section] = p;
      }
      const [start, stop, step] = sections.map((p) => (p ? this.eval(p, scope, file) : NONE));
      return { kind: 'slice', start: start!, stop: stop!, step: step! } as Value;
    });
    return groups.length === 1 ? items[0]! : tuple(items);
  }

  private evalBinary(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const parts = children(node);
    const left = parts[0];
    const right = parts[parts.length - 1];
    if (!left || !right || parts.length < 3) return UNKNOWN;
    const operator = parts
      .slice(1, -1)
      .map((p) => file.textOf(p))
      .join(' ');
    if (operator === 'and' || operator === 'or') {
      const a = this.eval(left, scope, file);
      const decided = truthy(a);
      if (decided === undefined) {
        const b = this.speculatively(() => this.eval(right, scope, file));
        return truthy(b) === (operator === 'or') ? b : UNKNOWN;
      }
      if (operator === 'and') return decided ? this.eval(right, scope, file) : a;
      return decided ? a : this.eval(right, scope, file);
    }
    return this.library.binary(operator, this.eval(left, scope, file), this.eval(right, scope, file), this, {
      file,
      from: node.from,
      to: node.to,
    });
  }

  private makeLambda(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    this.functionDefaults.set(node, this.evalDefaults(node.getChild('ParamList'), scope, file));
    return { kind: 'function', name: '<lambda>', node, file, closure: scope, decorators: [] };
  }

  private evalCall(node: SyntaxNode, scope: Scope, file: SourceFile): Value {
    const calleeNode = node.firstChild;
    const argList = node.getChild('ArgList');
    if (!calleeNode || !argList) return UNKNOWN;
    // super().__init__(...) and super(Class, self).method(...)
    if (calleeNode.name === 'VariableName' && file.textOf(calleeNode) === 'super') {
      // super(Class, self) names the class to start after; super() uses the method's own class.
      const explicit = this.evalArguments(argList, scope, file).positional[0] ?? null;
      return this.library.superProxy(scope, this, explicit);
    }
    const callee = this.eval(calleeNode, scope, file);
    const args = this.evalArguments(argList, scope, file);
    return this.call(callee, { ...args, site: { file, from: node.from, to: node.to } });
  }

  evalArguments(argList: SyntaxNode, scope: Scope, file: SourceFile): Omit<CallArguments, 'site'> {
    const positional: Value[] = [];
    const keyword = new Map<string, Value>();
    const inner = children(argList).filter((c) => c.name !== '(' && c.name !== ')');
    for (const group of splitAt(inner)) {
      if (group.length === 0) continue;
      if (group[0]!.name === '*' && group[1]) {
        const spread = this.library.iterate(this.eval(group[1], scope, file), this);
        if (spread) positional.push(...spread);
        else positional.push(UNKNOWN);
      } else if (group[0]!.name === '**' && group[1]) {
        const spread = this.eval(group[1], scope, file);
        if (spread.kind === 'dict') {
          for (const { key, value } of spread.entries.values())
            if (key.kind === 'str') keyword.set(key.value, value);
        }
      } else if (group[1]?.name === 'AssignOp' && group[2]) {
        keyword.set(file.textOf(group[0]!), this.eval(group[2], scope, file));
      } else if (group.some((p) => p.name === 'for')) {
        // A generator expression as the only argument: sum(x for x in y).
        positional.push(this.evalComprehension(argList, scope, file, 'list'));
        break;
      } else {
        positional.push(this.eval(group[0]!, scope, file));
      }
    }
    return { positional, keyword };
  }

  // ------------------------------------------------------------------------------------------------- calls

  /**
   * The call sites in workspace files that the running code was reached through, innermost last. Layers built
   * inside library stand-ins are located at the innermost of these (see stubs.ts).
   */
  private readonly userSites: Site[] = [];

  /** Where a layer built at `site` is located: `site` itself, or the user call that led into a stand-in. */
  userSite(site: Site): Site {
    if (!isStubPath(site.file.path)) return site;
    return this.userSites[this.userSites.length - 1] ?? site;
  }

  call(callee: Value, args: CallArguments): Value {
    const site = args.site;
    if (!site || isStubPath(site.file.path)) return this.dispatchCall(callee, args);
    this.userSites.push(site);
    try {
      return this.dispatchCall(callee, args);
    } finally {
      this.userSites.pop();
    }
  }

  private dispatchCall(callee: Value, args: CallArguments): Value {
    switch (callee.kind) {
      case 'function':
        return this.callFunction(callee, args, null);
      case 'bound':
        if (callee.fn.kind === 'function') return this.callFunction(callee.fn, args, callee.self);
        return this.call(callee.fn, { ...args, positional: [callee.self, ...args.positional] });
      case 'builtin':
        return callee.call(args);
      case 'partial': {
        const keyword = new Map(callee.kwargs);
        for (const [name, value] of args.keyword) keyword.set(name, value);
        return this.call(callee.fn, {
          positional: [...callee.args, ...args.positional],
          keyword,
          site: args.site,
        });
      }
      default:
        return this.library.callValue(callee, args, this);
    }
  }

  /** Calls a user-defined function or method (`self` already bound when given). */
  callFunction(fn: Extract<Value, { kind: 'function' }>, args: CallArguments, self: Value | null): Value {
    if (this.depth >= this.budget.depth) return UNKNOWN;
    this.depth++;
    try {
      const scope = new Scope(fn.closure);
      this.bindParameters(
        fn,
        scope,
        self === null ? args.positional : [self, ...args.positional],
        args.keyword,
      );
      // __class__ is the class that defines the method (what super() starts after), not the instance's class.
      if (self !== null && self.kind === 'object')
        scope.names.set('__class__', this.methodOwners.get(fn.node) ?? self.cls);
      const frame: Frame = { pendingReturns: [] };
      if (fn.node.name === 'LambdaExpression') {
        const bodyExpression = children(fn.node).slice(-1)[0];
        return bodyExpression ? this.eval(bodyExpression, scope, fn.file) : UNKNOWN;
      }
      const bodyNode = fn.node.getChild('Body');
      let result: Value = NONE;
      try {
        const completion = bodyNode ? this.execBlock(this.body(bodyNode), scope, fn.file, frame) : NORMAL;
        result = completion.type === 'return' ? completion.value : NONE;
      } catch (error) {
        if (!(error instanceof RaiseSignal)) throw error;
        result = UNKNOWN;
      }
      return frame.pendingReturns.reduce((joined, value) => joinValues(joined, value), result);
    } finally {
      this.depth--;
    }
  }

  private bindParameters(
    fn: Extract<Value, { kind: 'function' }>,
    scope: Scope,
    positional: readonly Value[],
    keyword: ReadonlyMap<string, Value>,
  ): void {
    const paramList = fn.node.getChild('ParamList');
    const defaults = this.functionDefaults.get(fn.node) ?? new Map<string, Value>();
    const params: { name: string; kind: 'normal' | 'star' | 'kwargs'; keywordOnly: boolean }[] = [];
    if (paramList) {
      let keywordOnly = false;
      for (const group of splitAt(children(paramList).filter((c) => c.name !== '(' && c.name !== ')'))) {
        const first = group[0];
        if (!first) continue;
        if (first.name === '*') {
          const nameNode = group[1];
          if (nameNode?.name === 'VariableName')
            params.push({ name: fn.file.textOf(nameNode), kind: 'star', keywordOnly });
          keywordOnly = true;
        } else if (first.name === '**') {
          const nameNode = group[1];
          if (nameNode) params.push({ name: fn.file.textOf(nameNode), kind: 'kwargs', keywordOnly: true });
        } else if (first.name === 'VariableName') {
          params.push({ name: fn.file.textOf(first), kind: 'normal', keywordOnly });
        }
      }
    }
    let index = 0;
    const remainingKeywords = new Map(keyword);
    for (const param of params) {
      if (param.kind === 'star') {
        scope.names.set(param.name, tuple(positional.slice(index)));
        index = positional.length;
      } else if (param.kind === 'kwargs') {
        const entries = new Map<string, { key: Value; value: Value }>();
        for (const [name, value] of remainingKeywords) entries.set(`s:${name}`, { key: str(name), value });
        scope.names.set(param.name, { kind: 'dict', entries });
        remainingKeywords.clear();
      } else if (!param.keywordOnly && index < positional.length) {
        scope.names.set(param.name, positional[index++]!);
      } else if (remainingKeywords.has(param.name)) {
        scope.names.set(param.name, remainingKeywords.get(param.name)!);
        remainingKeywords.delete(param.name);
      } else {
        // A missing argument in half-written code is unknown, not an error.
        scope.names.set(param.name, defaults.get(param.name) ?? UNKNOWN);
      }
    }
  }

  /** Instantiates a user-defined class: `__init__` (or dataclass fields, then Flax `setup`). */
  instantiate(cls: ClassValue, args: CallArguments): ObjectValue {
    const object: ObjectValue = { kind: 'object', cls, attrs: new Map(), id: this.newId() };
    this.library.initializeObject(object, args, this);
    return object;
  }

  /** Finds an attribute on a class or its user-defined bases (method resolution order, depth-first). */
  findClassAttribute(cls: ClassValue, name: string, seen = new Set<ClassValue>()): Value | undefined {
    if (seen.has(cls)) return undefined;
    seen.add(cls);
    const own = cls.attrs.get(name);
    if (own !== undefined) return own;
    for (const base of cls.bases) {
      if (base.kind === 'class') {
        const found = this.findClassAttribute(base, name, seen);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  describe(value: Value): string {
    return describeValue(value);
  }
}

// ------------------------------------------------------------------------------------------------ literals

export function parseNumber(text: string): Value {
  const clean = text.replace(/_/g, '');
  if (/[jJ]$/.test(clean)) return UNKNOWN;
  if (/^0[xX]/.test(clean)) return int(parseInt(clean.slice(2), 16));
  if (/^0[oO]/.test(clean)) return int(parseInt(clean.slice(2), 8));
  if (/^0[bB]/.test(clean)) return int(parseInt(clean.slice(2), 2));
  const value = Number(clean);
  if (!Number.isFinite(value)) return UNKNOWN;
  return /[.eE]/.test(clean) ? float(value) : int(value);
}

/** The value of a (possibly prefixed, possibly triple-quoted) Python string literal. */
export function parseStringLiteral(text: string): string {
  const match = /^([rRbBuU]*)('''|"""|'|")([\s\S]*)\2$/.exec(text);
  if (!match) return text;
  const raw = /[rR]/.test(match[1]!);
  const body = match[3]!;
  if (raw) return body;
  return body.replace(/\\(n|t|r|\\|'|"|\n)/g, (_, ch: string) =>
    ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch === '\n' ? '' : ch,
  );
}

function moduleNameOf(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.py$/, '');
}
