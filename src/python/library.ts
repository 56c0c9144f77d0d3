/**
 * What the interpreter knows of Python and of the ML libraries: builtins, attribute and item access, operators,
 * iteration, and calls into torch / keras / flax names. Everything not listed here is unknown.
 */
import { formatShape } from '../core/arithmetic/args';
import {
  type LayerCall,
  applyLayerToShape,
  applyRecurrent,
  isRecurrentLayer,
  applyLayerToShapes,
  boundLayerArgs,
  canonicalPath,
  createLayer,
  frameworkOfPath,
  isLayerClassPath,
  layerAttribute,
} from './layers';
import type { Interpreter } from './interpreter';
import { COMPOSITE_TORCH_MODULES } from './stubs';
import type { SourceFile, SyntaxNode } from './syntax';
import { BudgetExceeded, ForwardPassStopped } from './interpreter';
import { callTensorFunction, einopsCall, tensorAttribute, tensorBinary, tensorItem } from './tensors';
import {
  type CallArguments,
  type ClassValue,
  type ContainerValue,
  type Dim,
  type LayerValue,
  type ObjectValue,
  type Site,
  type Value,
  bool,
  float,
  int,
  intOf,
  keyOf,
  NONE,
  numberOf,
  Scope,
  sameValue,
  str,
  tensor,
  truthy,
  tuple,
  UNKNOWN,
  extendHistory,
  inputTensor,
} from './values';

/** Top-level packages that are libraries, never workspace files. */
const LIBRARY_ROOTS = new Set([
  'torch',
  'torchvision',
  'torchaudio',
  'keras',
  'tensorflow',
  'tf',
  'flax',
  'jax',
  'jaxlib',
  'optax',
  'numpy',
  'math',
  'functools',
  'collections',
  'typing',
  'typing_extensions',
  'os',
  'sys',
  'einops',
  'dataclasses',
  'abc',
  'copy',
  'itertools',
  'operator',
  'warnings',
  'logging',
  're',
  'json',
  'argparse',
  'types',
  'shutil',
  'glob',
  'pathlib',
  'random',
  'enum',
  'timm',
  'time',
  '__future__',
  'torchsummary',
  'torchinfo',
]);

/** Functions and modules that return their (first) argument's value unchanged, as far as shapes go. */
const IDENTITY_WRAPPERS = new Set([
  'torch.nn.utils.weight_norm',
  'torch.nn.utils.spectral_norm',
  'torch.nn.utils.parametrizations.weight_norm',
  'torch.nn.utils.parametrizations.spectral_norm',
  'torch.nn.utils.parametrizations.orthogonal',
  'torch.nn.utils.remove_weight_norm',
  'torch.jit.script',
  'torch.compile',
  'torch.nn.DataParallel',
  'torch.nn.Parameter',
  'torch.nn.parameter.Parameter',
  'torch.nn.parallel.DataParallel',
  'torch.nn.parallel.DistributedDataParallel',
]);

/** Attributes every torch.Tensor has (none of which a Python number or string has). */
const TENSOR_ATTRIBUTES = new Set([
  'size',
  'shape',
  'dim',
  'ndim',
  'view',
  'reshape',
  'dtype',
  'device',
  'numel',
]);

export interface Diagnostic {
  readonly site: Site;
  readonly message: string;
  readonly severity: 'error' | 'warning' | 'info';
  /** A short identifier (`shape-error`, `channel-mismatch`, `checkerboard`). */
  readonly code: string;
  /** An argument of a layer's constructor whose new value fixes the problem, when one certainly does. */
  readonly suggestion?: ArgumentSuggestion;
}

export interface ArgumentSuggestion {
  /** The constructor call to edit. */
  readonly layer: Site;
  readonly param: string;
  readonly value: string;
  readonly title: string;
}

export class Library {
  /** Every layer application, in the order the interpreter made them. */
  readonly calls: LayerCall[] = [];
  /** Every layer constructed. */
  readonly layers: LayerValue[] = [];
  readonly diagnostics: Diagnostic[] = [];
  /** Tensor values assigned or returned by statements, by file and statement end (for inlay hints). */
  readonly assignments: {
    file: SourceFile;
    node: SyntaxNode;
    shape: readonly Dim[] | null;
    source: string;
  }[] = [];
  /**
   * Shapes that replace the declared ones of the next keras.Input calls (and a Sequential's input_shape), in
   * order: `convlens trace` runs a Keras model on the shapes it is given, batch size included.
   */
  kerasInputOverride: (readonly Dim[])[] | null = null;
  /** Where the current input shapes come from, for hovers ("example call at line 80"). */
  inputSource = 'an example call in this file';
  /**
   * Ends the analysis at the first certain shape error, as a real forward pass ends where PyTorch raises: set by
   * a trace (nothing after the failing layer or tensor operation runs). Errors met under an unknown condition
   * do not stop it. The editor's analysis leaves it off, to keep showing the layers after a mistake.
   */
  stopAtFirstError = false;
  /**
   * What `self.training` reads: unknown in the editor (both branches are followed), False for `convlens trace`,
   * which follows the model in eval mode as summary tools do (no auxiliary heads, dropout off).
   */
  training: boolean | null = null;
  private interp: Interpreter | null = null;

  recordAssignment(file: SourceFile, node: SyntaxNode, value: Value): void {
    const tensors =
      value.kind === 'tensor'
        ? [value]
        : value.kind === 'tuple'
          ? value.items.filter((v) => v.kind === 'tensor')
          : [];
    if (tensors.length !== 1 || tensors[0]!.kind !== 'tensor') return;
    this.assignments.push({ file, node, shape: tensors[0]!.shape, source: this.inputSource });
  }

  builtins(interp: Interpreter): Scope {
    this.interp = interp;
    const scope = new Scope(null);
    const define = (name: string, call: (args: CallArguments) => Value) =>
      scope.names.set(name, { kind: 'builtin', name, call });
    const first = (args: CallArguments): Value => args.positional[0] ?? UNKNOWN;

    define('range', (args) => {
      const numbers = args.positional.map(intOf);
      if (numbers.some((n) => n === undefined) || numbers.length === 0) return UNKNOWN;
      const [a, b, c] =
        numbers.length === 1 ? [0, numbers[0]!, 1] : [numbers[0]!, numbers[1]!, numbers[2] ?? 1];
      if (c === 0) return UNKNOWN;
      const length = Math.max(0, Math.ceil((b - a) / c));
      if (length > interp.budget.loopIterations) throw new BudgetExceeded('A range was too long.');
      return { kind: 'list', items: Array.from({ length }, (_, i) => int(a + i * c)) };
    });
    define('len', (args) => {
      const value = first(args);
      if (value.kind === 'tensor')
        return value.shape && value.shape[0] !== null ? int(value.shape[0]!) : UNKNOWN;
      const items = this.iterate(value, interp);
      return items ? int(items.length) : UNKNOWN;
    });
    define('int', (args) => {
      const value = first(args);
      const n = numberOf(value);
      if (n !== undefined) return int(Math.trunc(n));
      if (value.kind === 'str' && /^\s*-?\d+\s*$/.test(value.value)) return int(Number(value.value));
      return UNKNOWN;
    });
    define('float', (args) => {
      const n = numberOf(first(args));
      return n === undefined ? UNKNOWN : float(n);
    });
    define('bool', (args) => {
      const decided = truthy(first(args));
      return decided === undefined ? UNKNOWN : bool(decided);
    });
    define('str', (args) => {
      const text = this.toStr(first(args));
      return text === undefined ? UNKNOWN : str(text);
    });
    define('list', (args) => {
      if (args.positional.length === 0) return { kind: 'list', items: [] };
      const items = this.iterate(first(args), interp);
      return items ? { kind: 'list', items: [...items] } : UNKNOWN;
    });
    define('tuple', (args) => {
      if (args.positional.length === 0) return tuple([]);
      const items = this.iterate(first(args), interp);
      return items ? tuple(items) : UNKNOWN;
    });
    define('set', (args) => {
      const items = args.positional.length === 0 ? [] : this.iterate(first(args), interp);
      return items ? { kind: 'list', items: [...items] } : UNKNOWN;
    });
    define('dict', (args) => this.makeDict(args, interp));
    define('enumerate', (args) => {
      const items = this.iterate(first(args), interp);
      const start = intOf(args.positional[1] ?? args.keyword.get('start') ?? int(0)) ?? 0;
      return items ? { kind: 'list', items: items.map((item, i) => tuple([int(start + i), item])) } : UNKNOWN;
    });
    define('zip', (args) => {
      const lists = args.positional.map((value) => this.iterate(value, interp));
      if (lists.some((items) => !items)) return UNKNOWN;
      const length = Math.min(...lists.map((items) => items!.length));
      return {
        kind: 'list',
        items: Array.from({ length }, (_, i) => tuple(lists.map((items) => items![i]!))),
      };
    });
    define('reversed', (args) => {
      const items = this.iterate(first(args), interp);
      return items ? { kind: 'list', items: [...items].reverse() } : UNKNOWN;
    });
    define('sorted', (args) => {
      const items = this.iterate(first(args), interp);
      const numbers = items?.map(numberOf);
      if (!numbers || numbers.some((n) => n === undefined)) return UNKNOWN;
      const sortedItems = [...items!].sort((a, b) => numberOf(a)! - numberOf(b)!);
      return {
        kind: 'list',
        items: truthy(args.keyword.get('reverse') ?? NONE) ? sortedItems.reverse() : sortedItems,
      };
    });
    const extreme = (pick: (a: number, b: number) => boolean) => (args: CallArguments) => {
      const values = args.positional.length === 1 ? this.iterate(first(args), interp) : args.positional;
      const numbers = values?.map(numberOf);
      if (!numbers || numbers.length === 0 || numbers.some((n) => n === undefined)) return UNKNOWN;
      let best = 0;
      numbers.forEach((n, i) => {
        if (pick(n!, numbers[best]!)) best = i;
      });
      return values![best]!;
    };
    define(
      'max',
      extreme((a, b) => a > b),
    );
    define(
      'min',
      extreme((a, b) => a < b),
    );
    define('sum', (args) => {
      const items = this.iterate(first(args), interp);
      if (!items) return UNKNOWN;
      let total: Value = args.positional[1] ?? int(0);
      for (const item of items) total = this.binary('+', total, item, interp);
      return total;
    });
    define('abs', (args) => this.numeric(first(args), Math.abs));
    define('round', (args) => {
      const n = numberOf(first(args));
      const digits = intOf(args.positional[1] ?? NONE);
      if (n === undefined) return UNKNOWN;
      if (digits === undefined) return int(roundHalfEven(n));
      return float(Math.round(n * 10 ** digits) / 10 ** digits);
    });
    define('divmod', (args) => {
      const [a, b] = args.positional.map(intOf);
      if (a === undefined || b === undefined || b === 0) return UNKNOWN;
      return tuple([int(Math.floor(a / b)), int(a - Math.floor(a / b) * b)]);
    });
    define('pow', (args) =>
      this.binary('**', args.positional[0] ?? UNKNOWN, args.positional[1] ?? UNKNOWN, interp),
    );
    define('any', (args) => {
      const items = this.iterate(first(args), interp);
      if (!items) return UNKNOWN;
      const decided = items.map(truthy);
      if (decided.some((d) => d === true)) return bool(true);
      return decided.some((d) => d === undefined) ? UNKNOWN : bool(false);
    });
    define('all', (args) => {
      const items = this.iterate(first(args), interp);
      if (!items) return UNKNOWN;
      const decided = items.map(truthy);
      if (decided.some((d) => d === false)) return bool(false);
      return decided.some((d) => d === undefined) ? UNKNOWN : bool(true);
    });
    define('isinstance', (args) =>
      this.isInstance(args.positional[0] ?? UNKNOWN, args.positional[1] ?? UNKNOWN),
    );
    define('hasattr', (args) => {
      const name = args.positional[1];
      if (name?.kind !== 'str') return UNKNOWN;
      const object = first(args);
      if (object.kind === 'object') {
        if (object.attrs.has(name.value) || interp.findClassAttribute(object.cls, name.value))
          return bool(true);
        return UNKNOWN;
      }
      // Every tensor has these (center_trim's `hasattr(reference, "size")` tells a tensor from a number).
      if (object.kind === 'tensor') return TENSOR_ATTRIBUTES.has(name.value) ? bool(true) : UNKNOWN;
      if (['int', 'float', 'bool', 'none', 'str'].includes(object.kind) && TENSOR_ATTRIBUTES.has(name.value))
        return bool(false);
      return UNKNOWN;
    });
    define('getattr', (args) => {
      const name = args.positional[1];
      if (name?.kind !== 'str') return UNKNOWN;
      const value = this.attribute(first(args), name.value, interp);
      return value.kind === 'unknown' && args.positional[2] ? args.positional[2] : value;
    });
    define('setattr', (args) => {
      const name = args.positional[1];
      if (name?.kind === 'str')
        this.setAttribute(first(args), name.value, args.positional[2] ?? UNKNOWN, interp);
      return NONE;
    });
    define('print', () => NONE);
    define('type', () => UNKNOWN);
    define('id', () => UNKNOWN);
    define('iter', (args) => first(args));
    define('next', (args) => {
      const items = this.iterate(first(args), interp);
      return items?.[0] ?? UNKNOWN;
    });
    define('map', (args) => {
      const fn = args.positional[0];
      const items = this.iterate(args.positional[1] ?? UNKNOWN, interp);
      if (!fn || !items) return UNKNOWN;
      return {
        kind: 'list',
        items: items.map((item) =>
          interp.call(fn, { positional: [item], keyword: new Map(), site: args.site }),
        ),
      };
    });
    define('filter', () => UNKNOWN);
    define('repr', (args) => str(interp.describe(first(args))));
    define('object', () => UNKNOWN);
    scope.names.set('__name__', str('__main__'));
    return scope;
  }

  global(_name: string, _interp: Interpreter): Value | undefined {
    return undefined;
  }

  isLibraryModule(dotted: string): boolean {
    return LIBRARY_ROOTS.has(dotted.split('.')[0]!);
  }

  /** A workspace module as a value whose attributes are its top-level names. */
  moduleObject(scope: Scope, dotted: string, interp: Interpreter): Value {
    const cls: ClassValue = {
      kind: 'class',
      name: dotted,
      file: null as never,
      node: null,
      bases: [],
      attrs: new Map(),
      fields: [],
    };
    return { kind: 'object', cls, attrs: scope.names, id: interp.newId() };
  }

  /** `@dataclass` (with or without arguments) marks a class whose generated `__init__` assigns its fields. */
  decorateClass(cls: ClassValue, decorators: readonly string[], _interp: Interpreter): Value {
    if (decorators.some((d) => /^(?:dataclasses\.)?dataclass\b/.test(d)))
      (cls as { dataclass?: boolean }).dataclass = true;
    return cls;
  }

  toStr(value: Value): string | undefined {
    switch (value.kind) {
      case 'str':
        return value.value;
      case 'int':
        return String(value.value);
      case 'float':
        return Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
      case 'bool':
        return value.value ? 'True' : 'False';
      case 'none':
        return 'None';
      default:
        return undefined;
    }
  }

  private numeric(value: Value, fn: (n: number) => number): Value {
    if (value.kind === 'int') return int(fn(value.value));
    if (value.kind === 'float') return float(fn(value.value));
    return UNKNOWN;
  }

  private makeDict(args: CallArguments, interp: Interpreter): Value {
    const entries = new Map<string, { key: Value; value: Value }>();
    const source = args.positional[0];
    if (source) {
      if (source.kind === 'dict') for (const [k, v] of source.entries) entries.set(k, v);
      else {
        const pairs = this.iterate(source, interp);
        if (!pairs) return UNKNOWN;
        for (const pair of pairs) {
          const items = this.iterate(pair, interp);
          const keyText = items?.[0] ? keyOf(items[0]) : undefined;
          if (!items || keyText === undefined) return UNKNOWN;
          entries.set(keyText, { key: items[0]!, value: items[1] ?? UNKNOWN });
        }
      }
    }
    for (const [name, value] of args.keyword) entries.set(`s:${name}`, { key: str(name), value });
    return { kind: 'dict', entries };
  }

  // ------------------------------------------------------------------------------------------ type checks

  private isInstance(value: Value, type: Value): Value {
    if (type.kind === 'tuple') {
      const answers = type.items.map((item) => this.isInstance(value, item));
      if (answers.some((a) => a.kind === 'bool' && a.value)) return bool(true);
      return answers.every((a) => a.kind === 'bool') ? bool(false) : UNKNOWN;
    }
    const builtinKinds = ['int', 'float', 'str', 'list', 'tuple', 'dict', 'none', 'bool'];
    if (type.kind === 'namespace') {
      const path = canonicalPath(type.path);
      const name = path.slice(path.lastIndexOf('.') + 1);
      // Abstract collection types of typing / collections.abc.
      const abstract = /^(?:typing|collections\.abc|collections)\.([A-Za-z]+)$/.exec(path)?.[1];
      const kindsOf: Record<string, string[]> = {
        Sequence: ['list', 'tuple', 'str'],
        MutableSequence: ['list'],
        List: ['list'],
        Tuple: ['tuple'],
        Mapping: ['dict'],
        MutableMapping: ['dict'],
        Dict: ['dict'],
        Iterable: ['list', 'tuple', 'dict', 'str'],
        Collection: ['list', 'tuple', 'dict', 'str'],
      };
      if (abstract && kindsOf[abstract]) {
        if (value.kind === 'container') return bool(abstract === 'Iterable' || abstract === 'Collection');
        if (builtinKinds.includes(value.kind)) return bool(kindsOf[abstract].includes(value.kind));
        return UNKNOWN;
      }
      const torchType = path.startsWith('torch.');
      if (value.kind === 'layer') return bool(value.frameworkClass === name || path === 'torch.nn.Module');
      if (value.kind === 'container') return bool(value.type === name || path === 'torch.nn.Module');
      // Every tensor is a torch.Tensor; whether it is a FloatTensor or a cuda tensor depends on dtype and device.
      if (value.kind === 'tensor') return path === 'torch.Tensor' ? bool(true) : UNKNOWN;
      if (value.kind === 'object' && torchType) {
        const order = methodResolutionOrder(value.cls);
        if (order.some((b) => b.kind === 'namespace' && canonicalPath(b.path) === path)) return bool(true);
        if (path === 'torch.nn.Module') return bool(isTorchModuleClass(value.cls));
        if (order.every((b) => b.kind === 'class' || b.kind === 'namespace')) {
          // Every base is known: a torch.nn layer class the object does not derive from.
          if (path.startsWith('torch.nn.')) return bool(false);
        }
        return UNKNOWN;
      }
      if (builtinKinds.includes(value.kind) && torchType) return bool(false);
      return UNKNOWN;
    }
    if (type.kind === 'builtin') {
      const pythonType: Record<string, string[]> = {
        int: ['int', 'bool'],
        float: ['float'],
        str: ['str'],
        list: ['list'],
        tuple: ['tuple'],
        dict: ['dict'],
        bool: ['bool'],
      };
      const kinds = pythonType[type.name];
      if (!kinds || value.kind === 'unknown') return UNKNOWN;
      if (value.kind === 'object') {
        if (type.name === 'dict' && value.attrs.has('__items__')) return bool(true);
        if (type.name === 'tuple' && value.attrs.has('__tuple__')) return bool(true);
        return bool(false);
      }
      return bool(kinds.includes(value.kind));
    }
    if (type.kind === 'class' && value.kind === 'object') {
      return bool(methodResolutionOrder(value.cls).includes(type));
    }
    if (type.kind === 'class' && (builtinKinds.includes(value.kind) || value.kind === 'tensor'))
      return bool(false);
    return UNKNOWN;
  }

  // -------------------------------------------------------------------------------------------- attributes

  attribute(object: Value, name: string, interp: Interpreter): Value {
    switch (object.kind) {
      case 'namespace':
        return this.namespaceAttribute(object.path, name);
      case 'object':
        return this.objectAttribute(object, name, interp);
      case 'class': {
        const found = interp.findClassAttribute(object, name);
        // A classmethod read from the class binds the class; plain functions and staticmethods stay as they are.
        if (found?.kind === 'function' && found.decorators.includes('classmethod'))
          return { kind: 'bound', self: object, fn: found };
        if (found === undefined && name === '__name__') return str(object.name);
        return found ?? UNKNOWN;
      }
      case 'layer':
        return this.layerValueAttribute(object, name, interp);
      case 'container':
        return this.containerAttribute(object, name, interp);
      case 'tensor':
        return tensorAttribute(object, name, this, interp);
      case 'list':
        return this.listAttribute(object, name, interp);
      case 'dict':
        return this.dictAttribute(object, name);
      case 'str':
        return this.strAttribute(object, name);
      case 'builtin':
        if (object.name === '<super>') return UNKNOWN;
        return UNKNOWN;
      default:
        return UNKNOWN;
    }
  }

  private namespaceAttribute(path: string, name: string): Value {
    const full = `${path}.${name}`;
    const constants: Record<string, number> = {
      'math.pi': Math.PI,
      'math.e': Math.E,
      'numpy.pi': Math.PI,
      'math.inf': Infinity,
    };
    if (full in constants) return float(constants[full]!);
    const flags: Record<string, number> = {
      're.I': 2,
      're.IGNORECASE': 2,
      're.M': 8,
      're.MULTILINE': 8,
      're.S': 16,
      're.DOTALL': 16,
    };
    if (full in flags) return int(flags[full]!);
    return { kind: 'namespace', path: full };
  }

  private method(name: string, call: (args: CallArguments) => Value): Value {
    return { kind: 'builtin', name, call };
  }

  private objectAttribute(object: ObjectValue, name: string, interp: Interpreter): Value {
    const own = object.attrs.get(name);
    if (own !== undefined) return own;
    // A dict subclass whose instance dictionary is itself (`self.__dict__ = self`, the AttrDict idiom): its
    // items are its attributes.
    const items = object.attrs.get('__items__');
    if (items?.kind === 'dict' && object.attrs.get('__dict__') === object) {
      const entry = items.entries.get(`s:${name}`);
      if (entry) return entry.value;
    }
    const fromClass = interp.findClassAttribute(object.cls, name);
    if (fromClass !== undefined) {
      if (fromClass.kind === 'function') {
        if (fromClass.decorators.includes('staticmethod')) return fromClass;
        if (fromClass.decorators.includes('property')) {
          return interp.callFunction(fromClass, { positional: [], keyword: new Map(), site: null }, object);
        }
        if (fromClass.decorators.includes('classmethod'))
          return { kind: 'bound', self: object.cls, fn: fromClass };
        return { kind: 'bound', self: object, fn: fromClass };
      }
      return fromClass;
    }
    // A layer subclass reads the layer's own attributes (self.stride, self.kernel_size, self.out_channels).
    const layer = object.attrs.get('__layer__');
    if (layer?.kind === 'layer' && !['forward', '__call__'].includes(name)) {
      const value = this.layerValueAttribute(layer, name, interp);
      if (value.kind !== 'unknown') return value;
    }
    return this.moduleMethod(object, name, interp);
  }

  /** Methods every nn.Module / Flax module / Keras layer has, that matter for shapes. */
  private moduleMethod(object: ObjectValue, name: string, interp: Interpreter): Value {
    const self = object;
    const items = object.attrs.get('__items__');
    if (items?.kind === 'dict') return this.dictAttribute(items, name);
    const kind = containerKindOf(object.cls);
    if (kind) {
      const children = () => moduleChildren(object);
      switch (name) {
        case 'append':
          return this.method(name, (args) => {
            object.attrs.set(String(children().length), args.positional[0] ?? UNKNOWN);
            return object;
          });
        case 'extend':
          return this.method(name, (args) => {
            for (const module of this.iterate(args.positional[0] ?? UNKNOWN, interp) ?? [UNKNOWN])
              object.attrs.set(String(children().length), module);
            return object;
          });
        case 'keys':
          return this.method(name, () => ({ kind: 'list', items: children().map(([key]) => str(key)) }));
        case 'values':
          return this.method(name, () => ({ kind: 'list', items: children().map(([, module]) => module) }));
        case 'items':
          return this.method(name, () => ({
            kind: 'list',
            items: children().map(([key, module]) => tuple([str(key), module])),
          }));
        case '__len__':
          return this.method(name, () => int(children().length));
        case 'forward':
          return this.method(name, (args) => this.callFrameworkBase(object, args, interp) ?? UNKNOWN);
      }
    }
    switch (name) {
      case '_modules': {
        // torch.nn.Module._modules: the registered submodules by name.
        const entries = new Map<string, { key: Value; value: Value }>();
        for (const [key, module] of moduleChildren(object))
          entries.set(`s:${key}`, { key: str(key), value: module });
        return { kind: 'dict', entries };
      }
      case 'add_module':
      case 'register_module':
        return this.method(name, (args) => {
          const key = args.positional[0];
          if (key?.kind === 'str') object.attrs.set(key.value, args.positional[1] ?? UNKNOWN);
          return NONE;
        });
      case 'children':
      case 'modules':
        return this.method(name, () => ({
          kind: 'list',
          items: [...object.attrs.values()].filter((v) => ['layer', 'container', 'object'].includes(v.kind)),
        }));
      case 'to':
      case 'cuda':
      case 'cpu':
      case 'float':
      case 'double':
      case 'half':
      case 'train':
      case 'eval':
      case 'requires_grad_':
      case 'apply':
        return this.method(name, () => self);
      case 'init':
      case 'apply_fn':
        // Flax: model.init(rngs, *inputs) runs __call__ on the inputs.
        return this.method(name, (args) => {
          this.callObject(object, { ...args, positional: args.positional.slice(1) }, interp);
          return UNKNOWN;
        });
      case 'forward':
        // m.forward(x) skips Module.__call__: a layer subclass's own call is then not seen by forward hooks.
        return this.method(name, (args) => {
          const layer = object.attrs.get('__layer__');
          if (layer?.kind !== 'layer') return this.callObject(object, args, interp);
          this.ownApplications.add(layer.id);
          try {
            return this.callFrameworkBase(object, args, interp) ?? UNKNOWN;
          } finally {
            this.ownApplications.delete(layer.id);
          }
        });
      case '__call__':
      case 'call':
        return this.method(name, (args) => this.callObject(object, args, interp));
      case 'training':
        return this.training === null ? UNKNOWN : bool(this.training);
      default:
        return UNKNOWN;
    }
  }

  private layerValueAttribute(layer: LayerValue, name: string, interp: Interpreter): Value {
    const chainable = [
      'to',
      'cuda',
      'cpu',
      'float',
      'double',
      'half',
      'train',
      'eval',
      'requires_grad_',
      'apply',
    ];
    if (chainable.includes(name)) return this.method(name, () => layer);
    if (name === '__call__') return this.method(name, (args) => this.applyLayer(layer, args, interp));
    if (name === 'forward') {
      // layer.forward(x) computes without going through Module.__call__, so no forward hook sees it.
      return this.method(name, (args) => {
        this.ownApplications.add(layer.id);
        try {
          return this.applyLayer(layer, args, interp);
        } finally {
          this.ownApplications.delete(layer.id);
        }
      });
    }
    if (name === 'weight' || name === 'bias') {
      const bound = boundLayerArgs(layer);
      if (!bound) return tensor(null, layer.framework);
      return UNKNOWN;
    }
    const value = layerAttribute(layer, name);
    if (layer.framework !== 'torch') return value;
    // torch.nn convolutions store int-or-tuple arguments as tuples (kernel_size=3 → (3, 3)); pooling layers keep
    // them as given, and their stride defaults to the kernel size (torch/nn/modules/pooling.py).
    const tupleParams = ['kernel_size', 'stride', 'padding', 'dilation', 'output_padding'];
    const conv = /^Conv(?:Transpose)?([123])d$/.exec(layer.frameworkClass);
    if (conv && tupleParams.includes(name) && value.kind === 'int') {
      return tuple(Array.from({ length: Number(conv[1]) }, () => value));
    }
    if (/Pool[123]d$/.test(layer.frameworkClass) && name === 'stride' && value.kind === 'none')
      return layerAttribute(layer, 'kernel_size');
    return value;
  }

  private containerAttribute(container: ContainerValue, name: string, interp: Interpreter): Value {
    switch (name) {
      case 'append':
      case 'add':
        return this.method(name, (args) => {
          container.items.push(args.positional[0] ?? UNKNOWN);
          container.names.push(String(container.items.length - 1));
          if (container.type === 'KerasSequential') this.runKerasSequential(container, interp);
          return container;
        });
      case 'extend':
        return this.method(name, (args) => {
          const items = this.iterate(args.positional[0] ?? UNKNOWN, interp) ?? [];
          for (const item of items) {
            container.items.push(item);
            container.names.push(String(container.items.length - 1));
          }
          return container;
        });
      case 'insert':
        return this.method(name, (args) => {
          const index = intOf(args.positional[0] ?? UNKNOWN);
          if (index !== undefined) container.items.splice(index, 0, args.positional[1] ?? UNKNOWN);
          return NONE;
        });
      case 'add_module':
        return this.method(name, (args) => {
          const key = args.positional[0];
          container.names.push(key?.kind === 'str' ? key.value : String(container.items.length));
          container.items.push(args.positional[1] ?? UNKNOWN);
          return NONE;
        });
      case 'keys':
        return this.method(name, () => ({ kind: 'list', items: container.names.map(str) }));
      case 'values':
      case 'children':
      case 'modules':
        return this.method(name, () => ({ kind: 'list', items: [...container.items] }));
      case 'items':
        return this.method(name, () => ({
          kind: 'list',
          items: container.items.map((item, i) => tuple([str(container.names[i] ?? String(i)), item])),
        }));
      case 'to':
      case 'cuda':
      case 'cpu':
      case 'train':
      case 'eval':
      case 'float':
      case 'apply':
        return this.method(name, () => container);
      case 'forward':
      case 'call':
        return this.method(name, (args) => this.callContainer(container, args, interp));
      case 'build':
        return this.method(name, (args) => {
          const shape = this.iterate(args.positional[0] ?? UNKNOWN, interp);
          if (shape) {
            container.items.unshift(
              tensor(
                shape.map((d) => intOf(d) ?? null),
                'keras',
              ),
            );
            container.names.unshift('input');
            this.runKerasSequential(container, interp);
          }
          return NONE;
        });
      case 'output_shape':
        return UNKNOWN;
      default: {
        const index = container.names.indexOf(name);
        return index >= 0 ? container.items[index]! : UNKNOWN;
      }
    }
  }

  private listAttribute(list: Extract<Value, { kind: 'list' }>, name: string, interp: Interpreter): Value {
    switch (name) {
      case 'append':
        return this.method(name, (args) => {
          list.items.push(args.positional[0] ?? UNKNOWN);
          return NONE;
        });
      case 'extend':
        return this.method(name, (args) => {
          const items = this.iterate(args.positional[0] ?? UNKNOWN, interp);
          if (items) list.items.push(...items);
          else list.items.push(UNKNOWN);
          return NONE;
        });
      case 'insert':
        return this.method(name, (args) => {
          const index = intOf(args.positional[0] ?? UNKNOWN);
          if (index !== undefined)
            list.items.splice(
              index < 0 ? Math.max(0, list.items.length + index) : index,
              0,
              args.positional[1] ?? UNKNOWN,
            );
          return NONE;
        });
      case 'pop':
        return this.method(name, (args) => {
          const index = args.positional.length ? intOf(args.positional[0]!) : -1;
          if (index === undefined || list.items.length === 0) return UNKNOWN;
          const [removed] = list.items.splice(index < 0 ? list.items.length + index : index, 1);
          return removed ?? UNKNOWN;
        });
      case 'copy':
        return this.method(name, () => ({ kind: 'list', items: [...list.items] }));
      case 'reverse':
        return this.method(name, () => {
          list.items.reverse();
          return NONE;
        });
      case 'index':
        return this.method(name, (args) => {
          const index = list.items.findIndex((item) => sameValue(item, args.positional[0] ?? UNKNOWN));
          return index >= 0 ? int(index) : UNKNOWN;
        });
      default:
        return UNKNOWN;
    }
  }

  private dictAttribute(dict: Extract<Value, { kind: 'dict' }>, name: string): Value {
    const entries = dict.entries;
    switch (name) {
      case 'keys':
        return this.method(name, () => ({ kind: 'list', items: [...entries.values()].map((e) => e.key) }));
      case 'values':
        return this.method(name, () => ({ kind: 'list', items: [...entries.values()].map((e) => e.value) }));
      case 'items':
        return this.method(name, () => ({
          kind: 'list',
          items: [...entries.values()].map((e) => tuple([e.key, e.value])),
        }));
      case 'get':
        return this.method(name, (args) => {
          const key = keyOf(args.positional[0] ?? UNKNOWN);
          if (key === undefined) return UNKNOWN;
          return entries.get(key)?.value ?? args.positional[1] ?? NONE;
        });
      case 'pop':
        return this.method(name, (args) => {
          const key = keyOf(args.positional[0] ?? UNKNOWN);
          if (key === undefined) return UNKNOWN;
          const found = entries.get(key);
          entries.delete(key);
          return found?.value ?? args.positional[1] ?? UNKNOWN;
        });
      case 'setdefault':
        return this.method(name, (args) => {
          const keyValue = args.positional[0] ?? UNKNOWN;
          const key = keyOf(keyValue);
          if (key === undefined) return UNKNOWN;
          if (!entries.has(key)) entries.set(key, { key: keyValue, value: args.positional[1] ?? NONE });
          return entries.get(key)!.value;
        });
      case 'update':
        return this.method(name, (args) => {
          const other = args.positional[0];
          if (other?.kind === 'dict') for (const [k, v] of other.entries) entries.set(k, v);
          for (const [k, v] of args.keyword) entries.set(`s:${k}`, { key: str(k), value: v });
          return NONE;
        });
      case 'copy':
        return this.method(name, () => ({ kind: 'dict', entries: new Map(entries) }));
      default:
        return UNKNOWN;
    }
  }

  private strAttribute(text: Extract<Value, { kind: 'str' }>, name: string): Value {
    const value = text.value;
    switch (name) {
      case 'lower':
        return this.method(name, () => str(value.toLowerCase()));
      case 'upper':
        return this.method(name, () => str(value.toUpperCase()));
      case 'strip':
        return this.method(name, () => str(value.trim()));
      case 'startswith':
        return this.method(name, (args) => {
          const prefix = args.positional[0];
          return prefix?.kind === 'str' ? bool(value.startsWith(prefix.value)) : UNKNOWN;
        });
      case 'endswith':
        return this.method(name, (args) => {
          const suffix = args.positional[0];
          return suffix?.kind === 'str' ? bool(value.endsWith(suffix.value)) : UNKNOWN;
        });
      case 'format':
        return this.method(name, (args) => {
          let index = 0;
          let unknown = false;
          const result = value.replace(/\{([^{}]*)\}/g, (_, key: string) => {
            const arg =
              key === ''
                ? args.positional[index++]
                : /^\d+$/.test(key)
                  ? args.positional[Number(key)]
                  : args.keyword.get(key);
            const rendered = arg ? this.toStr(arg) : undefined;
            if (rendered === undefined) unknown = true;
            return rendered ?? '';
          });
          return unknown ? UNKNOWN : str(result);
        });
      case 'join':
        return this.method(name, (args) => {
          const items = this.iterate(args.positional[0] ?? UNKNOWN, null);
          const parts = items?.map((item) => (item.kind === 'str' ? item.value : undefined));
          return parts && parts.every((p) => p !== undefined) ? str(parts.join(value)) : UNKNOWN;
        });
      case 'split':
        return this.method(name, (args) => {
          const separator = args.positional[0];
          const parts =
            separator?.kind === 'str' ? value.split(separator.value) : value.split(/\s+/).filter(Boolean);
          return { kind: 'list', items: parts.map(str) };
        });
      case 'replace':
        return this.method(name, (args) => {
          const [from, to] = args.positional;
          return from?.kind === 'str' && to?.kind === 'str'
            ? str(value.split(from.value).join(to.value))
            : UNKNOWN;
        });
      default:
        return UNKNOWN;
    }
  }

  setAttribute(object: Value, name: string, value: Value, _interp: Interpreter): void {
    if (object.kind === 'object') object.attrs.set(name, value);
    else if (object.kind === 'class') object.attrs.set(name, value);
  }

  // ------------------------------------------------------------------------------------------------- items

  getItem(object: Value, index: Value, interp: Interpreter): Value {
    switch (object.kind) {
      case 'list':
      case 'tuple':
      case 'str': {
        const items = object.kind === 'str' ? [...object.value].map(str) : object.items;
        const picked = pickItems(items, index);
        if (picked === undefined) return UNKNOWN;
        if (!Array.isArray(picked)) return picked as Value;
        if (object.kind === 'str')
          return str((picked as Value[]).map((p) => (p as { value: string }).value).join(''));
        return object.kind === 'list' ? { kind: 'list', items: picked as Value[] } : tuple(picked as Value[]);
      }
      case 'dict': {
        const key = keyOf(index);
        return key === undefined ? UNKNOWN : (object.entries.get(key)?.value ?? UNKNOWN);
      }
      case 'container': {
        if (object.type === 'ModuleDict' && index.kind === 'str') {
          const position = object.names.indexOf(index.value);
          return position >= 0 ? object.items[position]! : UNKNOWN;
        }
        const picked = pickItems(object.items, index);
        if (picked === undefined) return UNKNOWN;
        if (!Array.isArray(picked)) return picked as Value;
        return { ...object, items: picked as Value[], names: (picked as Value[]).map((_, i) => String(i)) };
      }
      case 'tensor':
        return tensorItem(object, index, this, interp);
      case 'object': {
        const items = object.attrs.get('__items__') ?? object.attrs.get('__tuple__');
        if (items) return this.getItem(items, index, interp);
        const kind = containerKindOf(object.cls);
        if (!kind) return UNKNOWN;
        const children = moduleChildren(object);
        if (kind === 'ModuleDict' || index.kind === 'str') {
          const found = children.find(([name]) => index.kind === 'str' && name === index.value);
          return found ? found[1] : UNKNOWN;
        }
        const picked = pickItems(
          children.map(([, module]) => module),
          index,
        );
        if (picked === undefined) return UNKNOWN;
        if (!Array.isArray(picked)) return picked as Value;
        // A slice of a Sequential is a Sequential of those modules.
        return this.container(kind, picked as Value[], null, {
          positional: [],
          keyword: new Map(),
          site: null,
        });
      }
      default:
        return UNKNOWN;
    }
  }

  setItem(object: Value, index: Value, value: Value, interp: Interpreter): void {
    if (object.kind === 'object') {
      const items = object.attrs.get('__items__');
      if (items) this.setItem(items, index, value, interp);
      else if (containerKindOf(object.cls)) {
        const i = intOf(index);
        const children = moduleChildren(object);
        if (index.kind === 'str') object.attrs.set(index.value, value);
        else if (i !== undefined && children[i < 0 ? children.length + i : i])
          object.attrs.set(children[i < 0 ? children.length + i : i]![0], value);
      }
      return;
    }
    if (object.kind === 'list') {
      const i = intOf(index);
      if (i !== undefined) {
        const position = i < 0 ? object.items.length + i : i;
        if (position >= 0 && position < object.items.length) object.items[position] = value;
      }
    } else if (object.kind === 'dict') {
      const key = keyOf(index);
      if (key !== undefined) object.entries.set(key, { key: index, value });
    } else if (object.kind === 'container') {
      if (index.kind === 'str') {
        const position = object.names.indexOf(index.value);
        if (position >= 0) object.items[position] = value;
        else {
          object.names.push(index.value);
          object.items.push(value);
        }
      } else {
        const i = intOf(index);
        if (i !== undefined && i >= 0 && i < object.items.length) object.items[i] = value;
      }
    }
  }

  // --------------------------------------------------------------------------------------------- operators

  binary(operator: string, a: Value, b: Value, interp: Interpreter, site: Site | null = null): Value {
    // `x is None` is decided for any value that is known not to be None (a tensor, a layer, a module).
    if ((operator === 'is' || operator === 'is not') && (a.kind === 'none' || b.kind === 'none')) {
      const other = a.kind === 'none' ? b : a;
      if (other.kind === 'unknown') return UNKNOWN;
      return bool((other.kind === 'none') === (operator === 'is'));
    }
    if (a.kind === 'tensor' || b.kind === 'tensor') return tensorBinary(operator, a, b, this, interp, site);
    switch (operator) {
      case 'is':
        return a.kind === 'unknown' || b.kind === 'unknown'
          ? UNKNOWN
          : bool(sameValue(a, b) && a.kind === b.kind);
      case 'is not':
        return a.kind === 'unknown' || b.kind === 'unknown'
          ? UNKNOWN
          : bool(!(sameValue(a, b) && a.kind === b.kind));
      case '==':
      case '!=': {
        if (a.kind === 'unknown' || b.kind === 'unknown') return UNKNOWN;
        const na = numberOf(a);
        const nb = numberOf(b);
        let equal: boolean | undefined;
        if (na !== undefined && nb !== undefined) equal = na === nb;
        else if (a.kind === 'str' && b.kind === 'str') equal = a.value === b.value;
        else if (a.kind === 'none' || b.kind === 'none') equal = a.kind === b.kind;
        else if ((a.kind === 'tuple' || a.kind === 'list') && (b.kind === 'tuple' || b.kind === 'list')) {
          if (a.items.length !== b.items.length) equal = false;
          else {
            const parts = a.items.map((item, i) => this.binary('==', item, b.items[i]!, interp));
            if (parts.some((p) => p.kind === 'bool' && !p.value)) equal = false;
            else if (parts.every((p) => p.kind === 'bool')) equal = true;
          }
        } else if (
          a.kind !== b.kind &&
          ['str', 'int', 'float', 'bool'].includes(a.kind) &&
          ['str', 'int', 'float', 'bool'].includes(b.kind)
        ) {
          equal = false;
        }
        if (equal === undefined) return UNKNOWN;
        return bool(operator === '==' ? equal : !equal);
      }
      case 'in':
      case 'not in': {
        let found: boolean | undefined;
        if (b.kind === 'str' && a.kind === 'str') found = b.value.includes(a.value);
        else if (b.kind === 'dict') {
          const key = keyOf(a);
          found = key === undefined ? undefined : b.entries.has(key);
        } else {
          const items = this.iterate(b, interp);
          if (items) {
            const answers = items.map((item) => this.binary('==', a, item, interp));
            if (answers.some((x) => x.kind === 'bool' && x.value)) found = true;
            else if (answers.every((x) => x.kind === 'bool')) found = false;
          }
        }
        if (found === undefined) return UNKNOWN;
        return bool(operator === 'in' ? found : !found);
      }
    }
    const na = numberOf(a);
    const nb = numberOf(b);
    if (na !== undefined && nb !== undefined) {
      const bothInt = (a.kind === 'int' || a.kind === 'bool') && (b.kind === 'int' || b.kind === 'bool');
      const wrap = (n: number): Value => (bothInt && Number.isInteger(n) ? int(n) : float(n));
      switch (operator) {
        case '+':
          return wrap(na + nb);
        case '-':
          return wrap(na - nb);
        case '*':
          return wrap(na * nb);
        case '/':
          return nb === 0 ? UNKNOWN : float(na / nb);
        case '//':
          return nb === 0 ? UNKNOWN : bothInt ? int(Math.floor(na / nb)) : float(Math.floor(na / nb));
        case '%':
          return nb === 0 ? UNKNOWN : wrap(na - Math.floor(na / nb) * nb);
        case '**':
          return bothInt && nb >= 0 ? int(na ** nb) : float(na ** nb);
        case '<':
          return bool(na < nb);
        case '<=':
          return bool(na <= nb);
        case '>':
          return bool(na > nb);
        case '>=':
          return bool(na >= nb);
        case '&':
          return int(na & nb);
        case '|':
          return int(na | nb);
        case '^':
          return int(na ^ nb);
        case '<<':
          return int(na << nb);
        case '>>':
          return int(na >> nb);
      }
    }
    if (operator === '+') {
      if (a.kind === 'str' && b.kind === 'str') return str(a.value + b.value);
      if (a.kind === 'list' && b.kind === 'list') return { kind: 'list', items: [...a.items, ...b.items] };
      if (a.kind === 'tuple' && b.kind === 'tuple') return tuple([...a.items, ...b.items]);
    }
    if (operator === '*') {
      const times = nb ?? na;
      const sequence = nb !== undefined ? a : b;
      if (
        times !== undefined &&
        Number.isInteger(times) &&
        times >= 0 &&
        times <= interp.budget.loopIterations
      ) {
        if (sequence.kind === 'list' || sequence.kind === 'tuple') {
          const items = Array.from({ length: times }, () => sequence.items).flat();
          return sequence.kind === 'list' ? { kind: 'list', items } : tuple(items);
        }
        if (sequence.kind === 'str') return str(sequence.value.repeat(times));
      }
    }
    if (operator === '%' && a.kind === 'str') {
      const values = b.kind === 'tuple' ? b.items : [b];
      let index = 0;
      let unknown = false;
      const result = a.value.replace(/%[sd]/g, () => {
        const rendered = values[index] ? this.toStr(values[index]!) : undefined;
        index++;
        if (rendered === undefined) unknown = true;
        return rendered ?? '';
      });
      return unknown ? UNKNOWN : str(result);
    }
    if (
      ['<', '<=', '>', '>='].includes(operator) &&
      (a.kind === 'tuple' || a.kind === 'list') &&
      (b.kind === 'tuple' || b.kind === 'list')
    ) {
      return UNKNOWN;
    }
    return UNKNOWN;
  }

  unary(operator: string, value: Value, _interp: Interpreter): Value {
    if (operator === 'not') {
      const decided = truthy(value);
      return decided === undefined ? UNKNOWN : bool(!decided);
    }
    if (value.kind === 'tensor') {
      if (!value.values) return value;
      if (operator === '-') return { ...value, values: value.values.map((v) => -v) };
      return operator === '+' ? value : tensor(value.shape, value.framework);
    }
    const n = numberOf(value);
    if (n === undefined) return UNKNOWN;
    if (operator === '-') return value.kind === 'float' ? float(-n) : int(-n);
    if (operator === '+') return value;
    if (operator === '~') return int(~n);
    return UNKNOWN;
  }

  /** The items a `for` loop would see, or undefined when unknown. */
  iterate(value: Value, _interp: Interpreter | null): readonly Value[] | undefined {
    if (value.kind === 'container' && value.type === 'ModuleDict') return value.names.map(str);
    if (value.kind === 'object') {
      const items = value.attrs.get('__items__');
      if (items) return itemsOrUndefined(items);
      const tupleItems = value.attrs.get('__tuple__');
      if (tupleItems) return itemsOrUndefined(tupleItems);
      const kind = containerKindOf(value.cls);
      if (kind === 'ModuleDict') return moduleChildren(value).map(([name]) => str(name));
      if (kind) return moduleChildren(value).map(([, module]) => module);
    }
    return itemsOrUndefined(value);
  }

  // ------------------------------------------------------------------------------------------------- calls

  /**
   * `super()` inside a method: an object whose attributes are those of the classes after the method's own class
   * in the instance's method resolution order (depth-first, left to right, as single inheritance resolves), bound
   * to `self`. Where no user class defines `__init__` or `forward`, the framework base does: a layer base makes
   * the object that layer, a container base fills it, a `dict` base holds the items, a dataclass base assigns
   * its fields.
   */
  superProxy(scope: Scope, interp: Interpreter, explicitClass: Value | null = null): Value {
    const self = scope.lookup('self');
    const cls = explicitClass?.kind === 'class' ? explicitClass : scope.lookup('__class__');
    if (!self || self.kind !== 'object' || !cls || cls.kind !== 'class') return UNKNOWN;
    const order = methodResolutionOrder(self.cls);
    const start = order.indexOf(cls);
    const after = start >= 0 ? order.slice(start + 1) : methodResolutionOrder(cls).slice(1);
    const resolver: ObjectValue = {
      kind: 'object',
      cls: {
        kind: 'class',
        name: `super(${cls.name})`,
        file: cls.file,
        node: null,
        bases: [],
        attrs: new Map(),
        fields: [],
      },
      attrs: new Map(),
      id: interp.newId(),
    };
    for (const base of after) {
      if (base.kind !== 'class') continue;
      for (const [name, value] of base.attrs) {
        if (resolver.attrs.has(name)) continue;
        if (value.kind === 'function') {
          if (value.decorators.includes('staticmethod')) resolver.attrs.set(name, value);
          else if (value.decorators.includes('classmethod'))
            resolver.attrs.set(name, { kind: 'bound', self: self.cls, fn: value });
          else resolver.attrs.set(name, { kind: 'bound', self, fn: value });
        } else {
          resolver.attrs.set(name, value);
        }
      }
    }
    if (!resolver.attrs.has('__init__')) {
      const dataclassBase = after.find((b): b is ClassValue => b.kind === 'class' && b.dataclass === true);
      resolver.attrs.set(
        '__init__',
        this.method('__init__', (args) => {
          if (dataclassBase) this.assignFields(self, dataclassBase, args);
          else this.initializeFrameworkBase(self, args, interp);
          return NONE;
        }),
      );
    }
    if (!resolver.attrs.has('forward')) {
      resolver.attrs.set(
        'forward',
        this.method('forward', (args) => this.callFrameworkBase(self, args, interp) ?? UNKNOWN),
      );
    }
    return resolver;
  }

  /** Sets a dataclass's fields (bases first) from constructor arguments, as the generated `__init__` does. */
  private assignFields(object: ObjectValue, cls: ClassValue, args: CallArguments): void {
    const chain = methodResolutionOrder(cls)
      .filter((c): c is ClassValue => c.kind === 'class')
      .reverse();
    const fields = chain.flatMap((c) => c.fields);
    fields.forEach((field, i) => {
      const value =
        i < args.positional.length
          ? args.positional[i]!
          : (args.keyword.get(field.name) ?? field.default ?? UNKNOWN);
      object.attrs.set(field.name, value);
    });
  }

  /**
   * What the framework class an object derives from does on construction: a layer base (`class
   * Conv3DSimple(nn.Conv3d)`) makes the object that layer; `nn.Sequential(*modules)`, `nn.ModuleList(modules)`
   * and `nn.ModuleDict(mapping)` bases register their modules as attributes `0`, `1`, … (or by key), as
   * torch.nn does; a `dict` base holds the items.
   */
  private initializeFrameworkBase(object: ObjectValue, args: CallArguments, interp: Interpreter): void {
    const base = frameworkBaseOf(object.cls);
    if (!base) return;
    if (base.kind === 'layer') {
      const layer = createLayer(
        base.path,
        { ...args, site: args.site ? interp.userSite(args.site) : null },
        object.cls.name,
      );
      if (layer) {
        object.attrs.set('__layer__', layer);
        this.layers.push(layer);
      }
      return;
    }
    if (base.kind === 'dict') {
      const dict = this.makeDict(args, interp);
      object.attrs.set('__items__', dict.kind === 'dict' ? dict : { kind: 'dict', entries: new Map() });
      return;
    }
    const only = args.positional[0];
    let entries: [string, Value][] = [];
    if (base.kind === 'Sequential') {
      if (args.positional.length === 1 && only?.kind === 'dict')
        entries = [...only.entries.values()].map((e) => [e.key.kind === 'str' ? e.key.value : '?', e.value]);
      else entries = args.positional.map((module, i) => [String(i), module]);
    } else if (base.kind === 'ModuleList') {
      const items = only ? this.iterate(only, interp) : [];
      entries = (items ?? [UNKNOWN]).map((module, i) => [String(i), module]);
    } else if (only) {
      const pairs =
        only.kind === 'dict'
          ? [...only.entries.values()].map((e) => tuple([e.key, e.value]))
          : (this.iterate(only, interp) ?? []);
      for (const pair of pairs) {
        const parts = this.iterate(pair, interp);
        if (parts?.[0]?.kind === 'str') entries.push([parts[0].value, parts[1] ?? UNKNOWN]);
      }
    }
    for (const [name, module] of entries) object.attrs.set(name, module);
  }

  /**
   * What calling an object does when no user class defines `forward`: a layer subclass applies its layer, a
   * Sequential subclass runs its modules in order; anything else is undefined here.
   */
  private callFrameworkBase(
    object: ObjectValue,
    args: CallArguments,
    interp: Interpreter,
  ): Value | undefined {
    const layer = object.attrs.get('__layer__');
    if (layer?.kind === 'layer') return this.applyLayer(layer, args, interp);
    if (containerKindOf(object.cls) === 'Sequential') {
      let current = args.positional[0] ?? UNKNOWN;
      for (const [, module] of moduleChildren(object)) {
        current = interp.call(module, { positional: [current], keyword: new Map(), site: args.site });
      }
      return current;
    }
    return undefined;
  }

  initializeObject(object: ObjectValue, args: CallArguments, interp: Interpreter): void {
    const init = interp.findClassAttribute(object.cls, '__init__');
    if (init?.kind === 'function') {
      interp.callFunction(init, args, object);
      return;
    }
    if (frameworkBaseOf(object.cls)) {
      this.initializeFrameworkBase(object, args, interp);
      return;
    }
    // Dataclass-style classes (Flax modules, @dataclass): fields from the arguments, in declaration order (bases
    // first), then setup().
    const fields: ClassValue['fields'] = [];
    const chain: ClassValue[] = [];
    for (
      let cls: ClassValue | undefined = object.cls;
      cls;
      cls = cls.bases.find((b): b is ClassValue => b.kind === 'class')
    ) {
      chain.unshift(cls);
    }
    for (const cls of chain) fields.push(...cls.fields);
    fields.forEach((field, i) => {
      const value =
        i < args.positional.length
          ? args.positional[i]!
          : (args.keyword.get(field.name) ?? field.default ?? UNKNOWN);
      object.attrs.set(field.name, value);
    });
    const setup = interp.findClassAttribute(object.cls, 'setup');
    if (setup?.kind === 'function')
      interp.callFunction(setup, { positional: [], keyword: new Map(), site: null }, object);
  }

  /** Layer ids whose application is part of a subclass's own call (recorded once, for the subclass). */
  private readonly ownApplications = new Set<number>();

  /** Calling an instance: its __call__, else forward (PyTorch), else call (Keras), else its framework base. */
  callObject(object: ObjectValue, args: CallArguments, interp: Interpreter): Value {
    const layer = object.attrs.get('__layer__');
    for (const name of ['__call__', 'forward', 'call']) {
      const method = interp.findClassAttribute(object.cls, name);
      if (method?.kind !== 'function') continue;
      if (layer?.kind !== 'layer') return interp.callFunction(method, args, object);
      // A layer subclass with its own forward is one module call, whatever its forward does inside (a real
      // forward hook fires once, on the subclass): record it once, with what the forward returns.
      this.ownApplications.add(layer.id);
      let output: Value;
      try {
        output = interp.callFunction(method, args, object);
      } finally {
        this.ownApplications.delete(layer.id);
      }
      const input = args.positional[0];
      this.calls.push({
        layer,
        input: input?.kind === 'tensor' ? input.shape : null,
        output: output.kind === 'tensor' ? output.shape : null,
        shape: null,
        error: null,
        callSite: args.site,
        dims: null,
        source: this.inputSource,
      });
      return output;
    }
    return this.callFrameworkBase(object, args, interp) ?? UNKNOWN;
  }

  callValue(callee: Value, args: CallArguments, interp: Interpreter): Value {
    switch (callee.kind) {
      case 'class':
        return interp.instantiate(callee, args);
      case 'object': {
        if (callee.cls.node === null && callee.attrs.has('__init__')) return UNKNOWN;
        return this.callObject(callee, args, interp);
      }
      case 'layer':
        return this.applyLayer(callee, args, interp);
      case 'container':
        return this.callContainer(callee, args, interp);
      case 'namespace':
        return this.callNamespace(callee.path, args, interp);
      default:
        return UNKNOWN;
    }
  }

  private callNamespace(path: string, args: CallArguments, interp: Interpreter): Value {
    const canonical = canonicalPath(path);
    if (IDENTITY_WRAPPERS.has(canonical)) return args.positional[0] ?? UNKNOWN;
    switch (canonical) {
      case 'torch.nn.Sequential':
      case 'keras.Sequential':
      case 'keras.models.Sequential':
        return this.makeSequential(
          canonical.startsWith('keras') ? 'KerasSequential' : 'Sequential',
          args,
          interp,
        );
      case 'torch.nn.ModuleList': {
        const items = args.positional[0] ? this.iterate(args.positional[0], interp) : [];
        return this.container('ModuleList', items ? [...items] : [], null, args);
      }
      case 'torch.nn.ModuleDict': {
        const source = args.positional[0];
        const entries = source?.kind === 'dict' ? [...source.entries.values()] : [];
        const names = entries.map((e) => (e.key.kind === 'str' ? e.key.value : '?'));
        if (source && source.kind !== 'dict') {
          const pairs = this.iterate(source, interp) ?? [];
          for (const pair of pairs) {
            const parts = this.iterate(pair, interp);
            if (parts?.[0]?.kind === 'str') {
              names.push(parts[0].value);
              entries.push({ key: parts[0], value: parts[1] ?? UNKNOWN });
            }
          }
        }
        return this.container(
          'ModuleDict',
          entries.map((e) => e.value),
          names,
          args,
        );
      }
      case 'collections.OrderedDict':
      case 'typing.OrderedDict':
        return this.makeDict(args, interp);
      case 'torchsummary.summary':
      case 'torchinfo.summary': {
        // summary(model, (3, 224, 224)) runs the model once: torchsummary on a batch of 2 built from input_size
        // (C, H, W), torchinfo on input_size as the full shape (batch included).
        const [model, sizeArg] = args.positional;
        const size = args.keyword.get('input_size') ?? sizeArg;
        const dims = size ? this.iterate(size, interp)?.map((d) => intOf(d) ?? null) : undefined;
        if (!model || !dims) return NONE;
        const shape = canonical === 'torchsummary.summary' ? [2, ...dims] : dims;
        const line = args.site ? args.site.file.position(args.site.from).line : null;
        const previous = this.inputSource;
        this.inputSource = `summary(...)${line ? ` at line ${line}` : ''}`;
        try {
          interp.call(model, {
            positional: [inputTensor(shape, 'torch')],
            keyword: new Map(),
            site: args.site,
          });
        } finally {
          this.inputSource = previous;
        }
        return NONE;
      }
      case 'functools.partial': {
        const [fn, ...rest] = args.positional;
        return fn ? { kind: 'partial', fn, args: rest, kwargs: args.keyword } : UNKNOWN;
      }
      case 'functools.reduce':
        return UNKNOWN;
      case 'keras.Input':
      case 'keras.layers.Input': {
        const override = this.kerasInputOverride?.shift();
        if (override) return inputTensor(override, 'keras');
        const shape = args.keyword.get('shape') ?? args.positional[0];
        const dims = shape ? this.iterate(shape, interp) : undefined;
        const batch = args.keyword.get('batch_size');
        if (!dims) return tensor(null, 'keras');
        return inputTensor([intOf(batch ?? NONE) ?? null, ...dims.map((d) => intOf(d) ?? null)], 'keras');
      }
      case 'keras.Model':
      case 'keras.models.Model': {
        // A functional model: its layers were applied while it was built; what it holds is its inputs and outputs.
        const model = this.moduleObject(new Scope(null), 'keras.Model', interp) as ObjectValue;
        model.attrs.set('inputs', args.keyword.get('inputs') ?? args.positional[0] ?? UNKNOWN);
        model.attrs.set('outputs', args.keyword.get('outputs') ?? args.positional[1] ?? UNKNOWN);
        return model;
      }
      case 'typing.cast':
        return args.positional[1] ?? UNKNOWN;
      case 'copy.copy':
      case 'copy.deepcopy':
        return this.copyValue(args.positional[0] ?? UNKNOWN, canonical === 'copy.deepcopy', interp);
      case 'types.SimpleNamespace':
      case 'argparse.Namespace': {
        const object = this.moduleObject(new Scope(null), canonical, interp) as ObjectValue;
        for (const [name, value] of args.keyword) object.attrs.set(name, value);
        return object;
      }
      case 'collections.namedtuple':
      case 'typing.NamedTuple':
        return this.namedTuple(args, interp);
      case 'argparse.ArgumentParser':
        return this.argumentParser(interp);
      case 're.search':
      case 're.match':
      case 're.fullmatch':
      case 're.sub':
      case 're.findall':
      case 're.split':
        return this.regexCall(canonical.slice(3), args.positional, args.keyword, interp);
      case 're.compile': {
        const pattern = args.positional[0];
        if (pattern?.kind !== 'str') return UNKNOWN;
        const compiled = this.moduleObject(new Scope(null), 're.Pattern', interp) as ObjectValue;
        for (const name of ['search', 'match', 'fullmatch', 'sub', 'findall', 'split'])
          compiled.attrs.set(
            name,
            this.method(name, (callArgs) =>
              this.regexCall(name, [pattern, ...callArgs.positional], callArgs.keyword, interp),
            ),
          );
        return compiled;
      }
      case 'einops.layers.torch.Rearrange':
      case 'einops.layers.torch.Reduce':
      case 'einops.layers.flax.Rearrange':
      case 'einops.layers.keras.Rearrange': {
        // einops layer modules: callables applying their pattern (not torch.nn modules, so not traced).
        const pattern = args.positional[0] ?? args.keyword.get('pattern');
        const operation = canonical.endsWith('Reduce') ? 'reduce' : 'rearrange';
        return {
          kind: 'builtin',
          name: canonical,
          call: (callArgs) =>
            einopsCall(operation, callArgs.positional[0], pattern, { ...args, site: callArgs.site }, this),
        };
      }
      case 'math.ceil':
        return this.numeric(args.positional[0] ?? UNKNOWN, Math.ceil);
      case 'math.floor':
        return this.numeric(args.positional[0] ?? UNKNOWN, Math.floor);
      case 'numpy.ceil':
      case 'numpy.floor': {
        // NumPy rounds to a float.
        const n = numberOf(args.positional[0] ?? UNKNOWN);
        return n === undefined ? UNKNOWN : float(canonical === 'numpy.ceil' ? Math.ceil(n) : Math.floor(n));
      }
      case 'math.sqrt':
      case 'numpy.sqrt': {
        const n = numberOf(args.positional[0] ?? UNKNOWN);
        return n === undefined ? UNKNOWN : float(Math.sqrt(n));
      }
      case 'math.log2': {
        const n = numberOf(args.positional[0] ?? UNKNOWN);
        return n === undefined ? UNKNOWN : float(Math.log2(n));
      }
      case 'math.prod':
      case 'numpy.prod': {
        const items = this.iterate(args.positional[0] ?? UNKNOWN, interp);
        const numbers = items?.map(intOf);
        if (!numbers || numbers.some((n) => n === undefined)) return UNKNOWN;
        return int(numbers.reduce((a, b) => a! * b!, 1)!);
      }
      case 'math.gcd': {
        const [a, b] = args.positional.map(intOf);
        if (a === undefined || b === undefined) return UNKNOWN;
        let [x, y] = [Math.abs(a), Math.abs(b)];
        while (y) [x, y] = [y, x % y];
        return int(x);
      }
    }
    const composite = /^torch\.nn\.(\w+)$/.exec(canonical)?.[1];
    if (composite && COMPOSITE_TORCH_MODULES.has(composite)) {
      // Modules made of other modules (nn.TransformerEncoderLayer): their stand-in builds and runs the parts.
      const cls = interp.stubValue('torch.nn.modules.transformer', composite);
      if (cls) return interp.call(cls, args);
    }
    if (isLayerClassPath(canonical)) {
      const layer = createLayer(canonical, { ...args, site: args.site ? interp.userSite(args.site) : null });
      if (!layer) return UNKNOWN;
      this.layers.push(layer);
      return layer;
    }
    const framework = frameworkOfPath(canonical) ?? (canonical.startsWith('jax.') ? 'flax' : null);
    return callTensorFunction(canonical, args, framework, this, interp);
  }

  /**
   * copy.copy / copy.deepcopy: a new list, dict or instance with the same (copied, when deep) contents. Layers
   * and tensors are immutable values here, so a copy may share them: a copied layer is still built by the
   * same constructor call.
   */
  private copyValue(
    value: Value,
    deep: boolean,
    interp: Interpreter,
    memo: Map<Value, Value> = new Map(),
  ): Value {
    // Like Python's deepcopy memo: a value met twice is copied once, so shared parts stay shared (and cycles end).
    const seen = memo.get(value);
    if (seen) return seen;
    if (memo.size > interp.budget.loopIterations) throw new BudgetExceeded('A copy was too large.');
    const inner = (v: Value) => (deep ? this.copyValue(v, deep, interp, memo) : v);
    switch (value.kind) {
      case 'list': {
        const copy: Value = { kind: 'list', items: [] };
        memo.set(value, copy);
        copy.items.push(...value.items.map(inner));
        return copy;
      }
      case 'tuple':
        return deep ? tuple(value.items.map(inner)) : value;
      case 'dict': {
        const entries = new Map<string, { key: Value; value: Value }>();
        const copy: Value = { kind: 'dict', entries };
        memo.set(value, copy);
        for (const [k, e] of value.entries) entries.set(k, { key: e.key, value: inner(e.value) });
        return copy;
      }
      case 'object': {
        const copy: ObjectValue = { kind: 'object', cls: value.cls, attrs: new Map(), id: interp.newId() };
        memo.set(value, copy);
        for (const [name, v] of value.attrs) copy.attrs.set(name, inner(v));
        return copy;
      }
      case 'container': {
        const copy: ContainerValue = { ...value, items: [], names: [...value.names] };
        memo.set(value, copy);
        copy.items.push(...value.items.map(inner));
        return copy;
      }
      default:
        return value;
    }
  }

  /**
   * re.search / match / fullmatch / sub / findall / split on known strings (config strings such as
   * 'spadesyncbatch3x3' parsed into layer choices). Python's pattern syntax is read as JavaScript's, with named
   * groups translated; a pattern JavaScript reads differently would be rare in model code, and one it cannot
   * compile is unknown.
   */
  private regexCall(
    operation: string,
    positional: readonly Value[],
    keyword: ReadonlyMap<string, Value>,
    interp: Interpreter,
  ): Value {
    const [pattern, second, third] = positional;
    const text = operation === 'sub' ? third : second;
    if (pattern?.kind !== 'str' || text?.kind !== 'str') return UNKNOWN;
    const flagsValue = keyword.get('flags') ?? (operation === 'sub' ? positional[4] : positional[2]);
    const flags = intOf(flagsValue ?? int(0)) ?? 0;
    let regex: RegExp;
    try {
      const source = pattern.value.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
      const anchored =
        operation === 'match' ? `^(?:${source})` : operation === 'fullmatch' ? `^(?:${source})$` : source;
      regex = new RegExp(anchored, `${flags & 2 ? 'i' : ''}${flags & 8 ? 'm' : ''}${flags & 16 ? 's' : ''}`);
    } catch {
      return UNKNOWN;
    }
    const value = text.value;
    if (operation === 'findall') {
      const found = [...value.matchAll(new RegExp(regex.source, regex.flags + 'g'))];
      return {
        kind: 'list',
        items: found.map((m) =>
          m.length <= 1
            ? str(m[0])
            : m.length === 2
              ? str(m[1] ?? '')
              : tuple(m.slice(1).map((g) => str(g ?? ''))),
        ),
      };
    }
    if (operation === 'split')
      return {
        kind: 'list',
        items: value.split(regex).map((part) => (part === undefined ? NONE : str(part))),
      };
    if (operation === 'sub') {
      if (second?.kind !== 'str') return UNKNOWN;
      const replacement = second.value.replace(/\\(\d)/g, '$$$1').replace(/\\g<(\w+)>/g, '$$<$1>');
      return str(value.replace(new RegExp(regex.source, regex.flags + 'g'), replacement));
    }
    const found = regex.exec(value);
    if (!found) return NONE;
    const match = this.moduleObject(new Scope(null), 're.Match', interp) as ObjectValue;
    const group = (index: Value): Value => {
      const key = index.kind === 'str' ? found.groups?.[index.value] : found[intOf(index) ?? -1];
      return key === undefined ? NONE : str(key);
    };
    match.attrs.set(
      'group',
      this.method('group', (args) =>
        args.positional.length <= 1 ? group(args.positional[0] ?? int(0)) : tuple(args.positional.map(group)),
      ),
    );
    match.attrs.set(
      'groups',
      this.method('groups', () => tuple(found.slice(1).map((g) => (g === undefined ? NONE : str(g))))),
    );
    match.attrs.set(
      'start',
      this.method('start', () => int(found.index)),
    );
    match.attrs.set(
      'end',
      this.method('end', () => int(found.index + found[0].length)),
    );
    return match;
  }

  /** collections.namedtuple('Name', ['a', 'b']) / 'a b': a class whose instances are tuples with named fields. */
  private namedTuple(args: CallArguments, interp: Interpreter): Value {
    const name = args.positional[0];
    const fieldsValue = args.positional[1] ?? args.keyword.get('field_names');
    const names =
      fieldsValue?.kind === 'str'
        ? fieldsValue.value.split(/[\s,]+/).filter(Boolean)
        : (this.iterate(fieldsValue ?? UNKNOWN, interp) ?? []).map((v) => (v.kind === 'str' ? v.value : '?'));
    const cls: ClassValue = {
      kind: 'class',
      name: name?.kind === 'str' ? name.value : 'namedtuple',
      file: null as never,
      node: null,
      bases: [],
      attrs: new Map(),
      fields: [],
    };
    cls.attrs.set(
      '__init__',
      this.method('__init__', () => NONE),
    );
    return {
      kind: 'builtin',
      name: cls.name,
      call: (callArgs) => {
        const object: ObjectValue = { kind: 'object', cls, attrs: new Map(), id: interp.newId() };
        const items = names.map(
          (field, i) => callArgs.positional[i] ?? callArgs.keyword.get(field) ?? UNKNOWN,
        );
        names.forEach((field, i) => object.attrs.set(field, items[i]!));
        object.attrs.set('__tuple__', tuple(items));
        return object;
      },
    };
  }

  /**
   * argparse.ArgumentParser: `add_argument(..., default=…)` then `parse_args()` gives the defaults, i.e. what
   * the script computes when run without options. An option with no default that must be given (required, or
   * positional) is unknown.
   */
  private argumentParser(interp: Interpreter): Value {
    const options = new Map<string, Value>();
    const parser = this.moduleObject(new Scope(null), 'argparse.ArgumentParser', interp) as ObjectValue;
    const add = this.method('add_argument', (args) => {
      const flags = args.positional.filter((v): v is Extract<Value, { kind: 'str' }> => v.kind === 'str');
      const long = flags.find((f) => f.value.startsWith('--')) ?? flags[0];
      const dest = args.keyword.get('dest');
      const name =
        dest?.kind === 'str' ? dest.value : long ? long.value.replace(/^-+/, '').replace(/-/g, '_') : null;
      if (!name) return NONE;
      const action = args.keyword.get('action');
      const required = truthy(args.keyword.get('required') ?? bool(false));
      let value: Value = args.keyword.get('default') ?? NONE;
      if (!args.keyword.has('default')) {
        if (action?.kind === 'str' && action.value === 'store_true') value = bool(false);
        else if (action?.kind === 'str' && action.value === 'store_false') value = bool(true);
        else if (required !== false || !flags.some((f) => f.value.startsWith('-'))) value = UNKNOWN;
      }
      // A string default goes through `type` (argparse converts it like a command-line value).
      const type = args.keyword.get('type');
      if (value.kind === 'str' && type?.kind === 'builtin' && ['int', 'float'].includes(type.name))
        value = type.call({ positional: [value], keyword: new Map(), site: null });
      options.set(name, value);
      return NONE;
    });
    const parse = this.method('parse_args', () => {
      const namespace = this.moduleObject(new Scope(null), 'argparse.Namespace', interp) as ObjectValue;
      for (const [name, value] of options) namespace.attrs.set(name, value);
      return namespace;
    });
    parser.attrs.set('add_argument', add);
    parser.attrs.set('parse_args', parse);
    parser.attrs.set(
      'parse_known_args',
      this.method('parse_known_args', () =>
        tuple([
          parse.kind === 'builtin' ? parse.call({ positional: [], keyword: new Map(), site: null }) : UNKNOWN,
          { kind: 'list', items: [] },
        ]),
      ),
    );
    parser.attrs.set(
      'add_argument_group',
      this.method('add_argument_group', () => parser),
    );
    parser.attrs.set(
      'set_defaults',
      this.method('set_defaults', (args) => {
        for (const [name, value] of args.keyword) options.set(name, value);
        return NONE;
      }),
    );
    return parser;
  }

  private container(
    type: ContainerValue['type'],
    items: Value[],
    names: string[] | null,
    args: CallArguments,
  ): ContainerValue {
    return {
      kind: 'container',
      type,
      items,
      names: names ?? items.map((_, i) => String(i)),
      site: args.site ?? (null as never),
    };
  }

  private makeSequential(
    type: 'Sequential' | 'KerasSequential',
    args: CallArguments,
    interp: Interpreter,
  ): Value {
    let items: Value[] = [...args.positional];
    let names: string[] | null = null;
    const only = args.positional[0];
    if (args.positional.length === 1 && only?.kind === 'dict') {
      items = [...only.entries.values()].map((e) => e.value);
      names = [...only.entries.values()].map((e) => (e.key.kind === 'str' ? e.key.value : '?'));
    } else if (type === 'KerasSequential') {
      const layers = only ?? args.keyword.get('layers');
      items = layers ? [...(this.iterate(layers, interp) ?? [])] : [];
    }
    const container = this.container(type, items, names, args);
    if (type === 'KerasSequential') this.runKerasSequential(container, interp);
    return container;
  }

  /**
   * A Keras Sequential model builds as soon as its input shape is known: from a leading keras.Input, a first
   * layer's `input_shape=`, or `model.build(...)`. Its layers are applied then, so hovers see their shapes.
   */
  private runKerasSequential(container: ContainerValue, interp: Interpreter): void {
    const [head] = container.items;
    let current: Value | null = null;
    let start = 0;
    if (head?.kind === 'tensor') {
      current = head;
      start = 1;
    } else if (head?.kind === 'layer') {
      const inputShape = head.keyword.get('input_shape');
      const dims = inputShape ? this.iterate(inputShape, interp) : undefined;
      const override = dims ? this.kerasInputOverride?.shift() : undefined;
      if (override) current = tensor(override, 'keras');
      else if (dims) current = tensor([null, ...dims.map((d) => intOf(d) ?? null)], 'keras');
    }
    if (!current) return;
    // Rebuilding after model.add() re-applies every layer; drop the calls of the previous build first.
    const previous = new Set(
      container.items.filter((v): v is LayerValue => v.kind === 'layer').map((l) => l.id),
    );
    for (let i = this.calls.length - 1; i >= 0; i--)
      if (previous.has(this.calls[i]!.layer.id)) this.calls.splice(i, 1);
    for (const item of container.items.slice(start)) {
      current = interp.call(item, { positional: [current], keyword: new Map(), site: null });
    }
  }

  callContainer(container: ContainerValue, args: CallArguments, interp: Interpreter): Value {
    if (container.type === 'ModuleList' || container.type === 'ModuleDict') return UNKNOWN;
    let current = args.positional[0] ?? UNKNOWN;
    for (const item of container.items) {
      if (item.kind === 'tensor') continue;
      current = interp.call(item, { positional: [current], keyword: new Map(), site: args.site });
    }
    return current;
  }

  /** Applies a layer to its input: the core computes the output shape, and the call is recorded. */
  applyLayer(layer: LayerValue, args: CallArguments, interp: Interpreter): Value {
    // torch.nn layers name their input `input` (self.conv(input=x)).
    const input = args.positional[0] ?? args.keyword.get('input') ?? UNKNOWN;
    if (isRecurrentLayer(layer)) return this.applyRecurrentLayer(layer, input, args);
    if (input.kind === 'list' || input.kind === 'tuple') {
      // Multi-input layers (Keras Concatenate/Add, nn.Bilinear with a tuple): every input's shape goes in.
      const shapes = input.items.map((item) => (item.kind === 'tensor' ? item.shape : null));
      const result = applyLayerToShapes(layer, shapes);
      if (result.error) this.report(args.site ?? layer.site, result.error, 'shape-error');
      this.calls.push({
        layer,
        input: shapes[0] ?? null,
        output: result.output,
        shape: null,
        error: result.error,
        callSite: args.site,
        dims: null,
        source: this.inputSource,
      });
      return tensor(result.output, layer.framework);
    }
    const inputShape = input.kind === 'tensor' ? input.shape : null;
    let outputSize: number[] | null = null;
    const requested = args.keyword.get('output_size') ?? args.positional[1];
    if (requested && layer.frameworkClass.startsWith('ConvTranspose')) {
      const items = this.iterate(requested, interp);
      const sizes = items?.map(intOf);
      if (sizes && sizes.every((n) => n !== undefined)) outputSize = sizes as number[];
    }
    const result = applyLayerToShape(layer, inputShape, outputSize);
    const history = extendHistory(
      input.kind === 'tensor' ? input.history : undefined,
      result.dims,
      inputShape?.length ?? null,
      result.output?.length ?? null,
    );
    if (!this.ownApplications.has(layer.id))
      this.calls.push({
        layer,
        input: inputShape,
        output: result.output,
        shape: result.shape,
        error: result.error,
        callSite: args.site,
        dims: result.dims,
        source: this.inputSource,
        history,
      });
    if (result.error) {
      const callSite = args.site ? interp.userSite(args.site) : null;
      this.diagnostics.push({
        site: callSite ?? layer.site,
        message: result.error,
        severity: 'error',
        code: 'shape-error',
      });
      if (callSite && callSite !== layer.site) {
        this.diagnostics.push({
          site: layer.site,
          message: `${result.error} (input ${inputShape ? formatShape(inputShape.map((d) => d ?? -1)).replace(/-1/g, '?') : '?'})`,
          severity: 'error',
          code: 'shape-error',
        });
      }
      this.stopIfCertain(result.error);
    }
    return {
      kind: 'tensor',
      shape: result.output,
      framework: layer.framework,
      producer: layer,
      ...(history ? { history } : {}),
    };
  }

  /**
   * An RNN / LSTM / GRU call returns (output, h_n) — (output, (h_n, c_n)) for an LSTM — and a cell its next state
   * (an (h, c) pair for an LSTMCell); the trace records the output sequence's shape.
   */
  private applyRecurrentLayer(layer: LayerValue, input: Value, args: CallArguments): Value {
    const inputShape = input.kind === 'tensor' ? input.shape : null;
    const result = applyRecurrent(layer, inputShape);
    if (!this.ownApplications.has(layer.id)) {
      this.calls.push({
        layer,
        input: inputShape,
        output: result.output,
        shape: null,
        error: result.error,
        callSite: args.site,
        dims: null,
        source: this.inputSource,
      });
    }
    if (result.error) this.report(args.site ?? layer.site, result.error, 'shape-error');
    const output = tensor(result.output, 'torch');
    const states = result.states.map((shape) => tensor(shape, 'torch'));
    if (layer.frameworkClass.endsWith('Cell'))
      return layer.frameworkClass === 'LSTMCell' ? tuple(states) : output;
    if (result.states.length === 0) return tuple([output, UNKNOWN]);
    return tuple([output, states.length === 2 ? tuple(states) : states[0]!]);
  }

  /** Records a diagnostic on a site (used by tensor operations such as cat and add). */
  report(
    site: Site | null,
    message: string,
    code: string,
    severity: Diagnostic['severity'] = 'error',
    suggestion?: ArgumentSuggestion,
  ): void {
    if (site)
      this.diagnostics.push({
        site: this.interp ? this.interp.userSite(site) : site,
        message,
        severity,
        code,
        ...(suggestion ? { suggestion } : {}),
      });
    if (severity === 'error') this.stopIfCertain(message);
  }

  /** Ends the analysis at an error, when asked to and when the code that met it certainly runs. */
  private stopIfCertain(message: string): void {
    if (this.stopAtFirstError && this.interp?.speculative === 0)
      throw new ForwardPassStopped(`The forward pass stops here, as the framework raises: ${message}`);
  }
}

/** A class and its bases, depth-first and left to right without repeats (the MRO of single inheritance). */
function methodResolutionOrder(cls: ClassValue): Value[] {
  const order: Value[] = [];
  const visit = (c: Value, depth: number): void => {
    if (order.includes(c) || depth > 50) return;
    order.push(c);
    if (c.kind === 'class') for (const base of c.bases) visit(base, depth + 1);
  };
  visit(cls, 0);
  return order;
}

type FrameworkBase =
  { kind: 'layer'; path: string } | { kind: 'Sequential' | 'ModuleList' | 'ModuleDict' } | { kind: 'dict' };

/** The first framework class (a torch.nn layer or container) or `dict` a user class derives from. */
function frameworkBaseOf(cls: ClassValue): FrameworkBase | null {
  for (const base of methodResolutionOrder(cls)) {
    if (base.kind === 'namespace') {
      const path = canonicalPath(base.path);
      if (path === 'torch.nn.Sequential') return { kind: 'Sequential' };
      if (path === 'torch.nn.ModuleList') return { kind: 'ModuleList' };
      if (path === 'torch.nn.ModuleDict') return { kind: 'ModuleDict' };
      if (isLayerClassPath(path)) return { kind: 'layer', path };
      if (path === 'collections.OrderedDict' || path === 'typing.OrderedDict') return { kind: 'dict' };
    } else if (base.kind === 'builtin' && base.name === 'dict') {
      return { kind: 'dict' };
    }
  }
  return null;
}

function containerKindOf(cls: ClassValue): 'Sequential' | 'ModuleList' | 'ModuleDict' | null {
  const base = frameworkBaseOf(cls);
  return base && (base.kind === 'Sequential' || base.kind === 'ModuleList' || base.kind === 'ModuleDict')
    ? base.kind
    : null;
}

/** Whether a user class is a torch.nn module (derives from nn.Module or any torch.nn class). */
function isTorchModuleClass(cls: ClassValue): boolean {
  return methodResolutionOrder(cls).some(
    (base) => base.kind === 'namespace' && canonicalPath(base.path).startsWith('torch.nn.'),
  );
}

/**
 * The submodules an object registered, by attribute name in assignment order (torch.nn.Module._modules): layers,
 * containers and module objects. An attribute of unknown value may be a module, so it is kept (as unknown):
 * running a Sequential subclass past it gives an unknown result rather than a guess.
 */
function moduleChildren(object: ObjectValue): [string, Value][] {
  const result: [string, Value][] = [];
  for (const [name, value] of object.attrs) {
    if (name.startsWith('__')) continue;
    if (
      value.kind === 'layer' ||
      value.kind === 'container' ||
      value.kind === 'unknown' ||
      (value.kind === 'object' && isTorchModuleClass(value.cls))
    )
      result.push([name, value]);
  }
  return result;
}

/** Items of a value, for iteration and unpacking. */
function itemsOrUndefined(value: Value): readonly Value[] | undefined {
  switch (value.kind) {
    case 'tuple':
    case 'list':
      return value.items;
    case 'container':
      return value.items;
    case 'dict':
      return [...value.entries.values()].map((entry) => entry.key);
    case 'str':
      return [...value.value].map(str);
    case 'tensor':
      return undefined;
    default:
      return undefined;
  }
}

/** Python indexing and slicing of a list: one item, a list of items, or undefined when unknown. */
function pickItems(items: readonly Value[], index: Value): Value | Value[] | undefined {
  if (index.kind === 'slice') {
    const step = index.step.kind === 'none' ? 1 : intOf(index.step);
    if (step === undefined || step === 0) return undefined;
    const length = items.length;
    const clamp = (value: Value, fallback: number, low: number, high: number): number | undefined => {
      if (value.kind === 'none') return fallback;
      const n = intOf(value);
      if (n === undefined) return undefined;
      return Math.min(Math.max(n < 0 ? n + length : n, low), high);
    };
    const start =
      step > 0 ? clamp(index.start, 0, 0, length) : clamp(index.start, length - 1, -1, length - 1);
    const stop = step > 0 ? clamp(index.stop, length, 0, length) : clamp(index.stop, -1, -1, length - 1);
    if (start === undefined || stop === undefined) return undefined;
    const picked: Value[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) picked.push(items[i]!);
    return picked;
  }
  const i = intOf(index);
  if (i === undefined) return undefined;
  const position = i < 0 ? items.length + i : i;
  return position >= 0 && position < items.length ? items[position] : undefined;
}

function roundHalfEven(n: number): number {
  const floor = Math.floor(n);
  const diff = n - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
