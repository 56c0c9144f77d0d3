/**
 * Entry points of model-code analysis: trace a model built by an expression on given inputs (`convlens
 * trace`), or analyse a whole file for the editor. Both run the interpreter under a budget and keep what was
 * found when it runs out.
 */
import { BudgetExceeded, type Budget, DEFAULT_BUDGET, Interpreter, type ModuleLoader } from './interpreter';
import type { LayerCall } from './layers';
import { type Diagnostic, Library } from './library';
import { SourceFile } from './syntax';
import { type Dim, type Framework, type Value, Scope, inputTensor } from './values';

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
export interface TraceOptions {
  readonly loader?: ModuleLoader | null;
  readonly budget?: Budget;
  readonly framework?: Framework;
  readonly displayPath?: (file: SourceFile) => string;
  /** Look for input sizes that work when a skip connection or residual add does not fit (default true). */
  readonly probeSizes?: boolean;
}

export function traceModel(
  file: SourceFile,
  entry: string,
  inputs: readonly (readonly Dim[])[],
  options: TraceOptions = {},
): TraceResult {
  const result = traceOnce(file, entry, inputs, options);
  if (options.probeSizes === false || !result.diagnostics.some(isJoinMismatch)) return result;
  const advice = sizesThatWork(file, entry, inputs, options, result.framework);
  if (!advice) return strip(result);
  return strip({
    ...result,
    diagnostics: result.diagnostics.map((d) =>
      isJoinMismatch(d) ? { ...d, message: `${d.message} ${advice}` } : d,
    ),
  });
}

/** A cat/add/broadcast mismatch: the kind of error a different input size can cure (U-Net skips at odd sizes). */
function isJoinMismatch(diagnostic: TraceDiagnostic): boolean {
  return (
    diagnostic.code === 'broadcast' ||
    (diagnostic.code === 'tensor-op' && /\b(cat|stack)\b/.test(diagnostic.message))
  );
}

function strip(result: TraceResult & { framework?: Framework }): TraceResult {
  return { layers: result.layers, diagnostics: result.diagnostics, problems: result.problems };
}

/** How far around the given size the probe looks, each way. */
const PROBE_RADIUS = 32;

/**
 * Re-traces the model with every spatial size set to each value near the given one, and says which sizes go
 * through without a join mismatch: "Input sizes that work nearby: multiples of 16 (80, 96, 112)."
 */
function sizesThatWork(
  file: SourceFile,
  entry: string,
  inputs: readonly (readonly Dim[])[],
  options: TraceOptions,
  framework: Framework,
): string | null {
  const [first, ...rest] = inputs;
  if (!first || first.some((d) => d === null)) return null;
  // Spatial dimensions: after N, C for PyTorch; between N and C for Keras and Flax.
  const spatial = framework === 'torch' ? [2, first.length - 1] : [1, first.length - 2];
  if (spatial[1]! < spatial[0]!) return null;
  const sizes = first.slice(spatial[0], spatial[1]! + 1) as number[];
  const base = Math.max(...sizes);
  const budget: Budget = { steps: 2_000_000, depth: 120, loopIterations: 20_000, milliseconds: 2_000 };
  const deadline = Date.now() + 5_000;
  const working: number[] = [];
  for (
    let size = Math.max(1, base - PROBE_RADIUS);
    size <= base + PROBE_RADIUS && Date.now() < deadline;
    size++
  ) {
    const shape = first.map((d, i) => (i >= spatial[0]! && i <= spatial[1]! ? size : d));
    const probe = traceOnce(file, entry, [shape, ...rest], { ...options, budget });
    if (probe.problems.length === 0 && !probe.diagnostics.some((d) => d.severity === 'error'))
      working.push(size);
  }
  if (working.length === 0) return null;
  const low = Math.max(1, base - PROBE_RADIUS);
  const nearest = [...working]
    .sort((a, b) => Math.abs(a - base) - Math.abs(b - base))
    .slice(0, 4)
    .sort((a, b) => a - b);
  const pattern = residuePattern(working, low, base + PROBE_RADIUS);
  return `Input sizes that work nearby: ${pattern ? `${pattern}, e.g. ` : ''}${nearest.join(', ')}.`;
}

/**
 * The simplest description of a set of sizes as residues: the smallest modulus m for which the set is exactly the
 * sizes in [low, high] with residue mod m in some set R ("multiples of 16", "sizes ≡ 0 or 1 (mod 4)").
 */
function residuePattern(working: readonly number[], low: number, high: number): string | null {
  const set = new Set(working);
  for (let m = 2; m <= 64; m++) {
    const residues = new Set(working.map((size) => size % m));
    if (residues.size === m) continue;
    let exact = true;
    for (let size = low; size <= high && exact; size++) exact = set.has(size) === residues.has(size % m);
    if (!exact) continue;
    const sorted = [...residues].sort((a, b) => a - b);
    if (sorted.length === 1 && sorted[0] === 0) return `multiples of ${m}`;
    const listed =
      sorted.length === 1 ? String(sorted[0]) : `${sorted.slice(0, -1).join(', ')} or ${sorted.at(-1)}`;
    return `sizes ≡ ${listed} (mod ${m})`;
  }
  return null;
}

function traceOnce(
  file: SourceFile,
  entry: string,
  inputs: readonly (readonly Dim[])[],
  options: TraceOptions,
): TraceResult & { framework: Framework } {
  let framework: Framework = options.framework ?? 'torch';
  const library = new Library();
  // A real forward pass ends where PyTorch raises; the trace stops at the same place, in eval mode.
  library.stopAtFirstError = true;
  library.training = false;
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
      framework = options.framework ?? frameworkOfModel(model);
      const builtWithInputs = framework === 'keras' && library.calls.length > beforeEntry;
      callsBefore = builtWithInputs ? beforeEntry : library.calls.length;
      if (!builtWithInputs) {
        interp.call(model, {
          positional: inputs.map((shape) => inputTensor([...shape], framework)),
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
  return { layers, diagnostics: dedupe(diagnostics), problems, framework };
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
