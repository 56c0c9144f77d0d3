/**
 * Entry points of model-code analysis: trace a model built by an expression on given inputs (`convlens
 * trace`), or analyse a whole file for the editor. Both run the interpreter under a budget and keep what was
 * found when it runs out.
 */
import { BudgetExceeded, type Budget, DEFAULT_BUDGET, Interpreter, type ModuleLoader } from './interpreter';
import type { LayerCall } from './layers';
import { type Diagnostic, Library } from './library';
import { SourceFile } from './syntax';
import { type Dim, type Framework, type Value, Scope, tensor } from './values';

export interface TracedLayer {
  readonly file: string;
  /** 1-based line of the constructor call that created the layer. */
  readonly line: number;
  /** 0-based column of that call's first character. */
  readonly col: number;
  /** The class name as the framework names it: Conv2d, MaxPool2d, Linear. */
  readonly op: string;
  readonly input: readonly Dim[] | null;
  readonly output: readonly Dim[] | null;
}

export interface TraceDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly severity: Diagnostic['severity'];
  readonly code: string;
  readonly message: string;
}

export interface TraceResult {
  readonly layers: TracedLayer[];
  readonly diagnostics: TraceDiagnostic[];
  /** Why the trace is incomplete, when it is (the entry could not be built, the budget ran out, …). */
  readonly problems: string[];
}

export const TRACE_BUDGET: Budget = {
  steps: 20_000_000,
  depth: 120,
  loopIterations: 100_000,
  milliseconds: 60_000,
};

/**
 * Builds the model with `entry` (a Python expression evaluated in the file's module scope) and runs it on
 * tensors of the given shapes. Returns one entry per call of a layer module, in call order.
 */
export function traceModel(
  file: SourceFile,
  entry: string,
  inputs: readonly (readonly Dim[])[],
  options: {
    loader?: ModuleLoader | null;
    budget?: Budget;
    framework?: Framework;
    displayPath?: (file: SourceFile) => string;
  } = {},
): TraceResult {
  const library = new Library();
  const interp = new Interpreter(library, options.loader ?? null, options.budget ?? TRACE_BUDGET);
  const problems: string[] = [];
  let callsBefore = 0;
  const display = options.displayPath ?? ((f: SourceFile) => f.path);
  try {
    const moduleScope = interp.runModule(file, false);
    const entryFile = new SourceFile('<entry>', entry);
    const expression = entryFile.tree.topNode.firstChild?.firstChild;
    if (!expression || entryFile.tree.topNode.firstChild?.name !== 'ExpressionStatement') {
      problems.push(`The entry '${entry}' is not a Python expression.`);
    } else {
      // Keras models apply their layers while they are built, from keras.Input: those calls are the trace, on
      // the shapes given here.
      library.kerasInputOverride = inputs.map((shape) => [...shape]);
      const beforeEntry = library.calls.length;
      const model = interp.eval(expression, new Scope(moduleScope), entryFile);
      if (model.kind === 'unknown')
        problems.push(`The entry '${entry}' could not be evaluated in ${file.path}.`);
      const framework = options.framework ?? frameworkOfModel(model);
      const builtWithInputs = framework === 'keras' && library.calls.length > beforeEntry;
      callsBefore = builtWithInputs ? beforeEntry : library.calls.length;
      if (!builtWithInputs) {
        interp.call(model, {
          positional: inputs.map((shape) => tensor([...shape], framework)),
          keyword: new Map(),
          site: null,
        });
      }
    }
  } catch (error) {
    if (!(error instanceof BudgetExceeded)) throw error;
    problems.push(error.message);
  }
  const calls = library.calls.slice(callsBefore);
  const layers = calls
    .filter((call) => call.layer.framework === (options.framework ?? call.layer.framework))
    .map((call) => tracedLayer(call, display));
  const diagnostics = library.diagnostics.map((d) => {
    const position = d.site.file.position(d.site.from);
    return {
      file: display(d.site.file),
      line: position.line,
      col: position.col,
      severity: d.severity,
      code: d.code,
      message: d.message,
    };
  });
  return { layers, diagnostics: dedupe(diagnostics), problems };
}

function frameworkOfModel(model: Value): Framework {
  if (model.kind === 'layer') return model.framework;
  if (model.kind === 'object') {
    const base = model.cls.bases.find((b) => b.kind === 'namespace');
    if (base?.kind === 'namespace' && base.path.startsWith('flax')) return 'flax';
    if (base?.kind === 'namespace' && (base.path.startsWith('keras') || base.path.startsWith('tensorflow')))
      return 'keras';
  }
  if (model.kind === 'container' && model.type === 'KerasSequential') return 'keras';
  if (model.kind === 'object' && model.cls.name === 'keras.Model') return 'keras';
  return 'torch';
}

function tracedLayer(call: LayerCall, display: (file: SourceFile) => string): TracedLayer {
  const site = call.layer.site;
  const position = site.file.position(site.from);
  return {
    file: display(site.file),
    line: position.line,
    col: position.col,
    op: call.layer.className,
    input: call.input,
    output: call.output,
  };
}

function dedupe<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export { DEFAULT_BUDGET, Interpreter, Library, SourceFile };
