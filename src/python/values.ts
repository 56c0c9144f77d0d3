/**
 * The values the shape interpreter computes with. Python values that matter for shapes are kept exactly
 * (ints, strings, tuples, dicts, layers, modules); tensors carry only their shape; anything the interpreter
 * cannot know is `unknown` — never a guess.
 */
import type { DimRule, LayerDef, PyValue } from '../core/arithmetic/types';
import type { SourceFile, SyntaxNode } from './syntax';

/** One dimension of a tensor: a size, or null when it is not known statically. */
export type Dim = number | null;

/** Where a layer was constructed: the constructor call, in whichever file it stands. */
export interface Site {
  readonly file: SourceFile;
  readonly from: number;
  readonly to: number;
}

export type Framework = 'torch' | 'keras' | 'flax';

export type Value =
  | { readonly kind: 'none' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'tuple'; readonly items: readonly Value[] }
  | { readonly kind: 'list'; readonly items: Value[] }
  | { readonly kind: 'dict'; readonly entries: Map<string, { key: Value; value: Value }> }
  | { readonly kind: 'slice'; readonly start: Value; readonly stop: Value; readonly step: Value }
  | { readonly kind: 'ellipsis' }
  | { readonly kind: 'unknown' }
  /**
   * A tensor: its shape (null when even the rank is unknown), in its framework's layout. `values` holds the
   * elements of a small tensor built from Python numbers (`torch.tensor([h - w])`), whose arithmetic stays exact.
   */
  | {
      readonly kind: 'tensor';
      readonly shape: readonly Dim[] | null;
      readonly framework: Framework;
      readonly values?: readonly number[];
      /**
       * The spatial rules of the layers this tensor went through since a model input, one list per spatial
       * dimension (an empty list: a model input itself); absent when the path is not known. Receptive fields
       * are computed from it.
       */
      readonly history?: readonly (readonly DimRule[])[];
      /** The layer whose call produced this tensor, when it came straight out of one. */
      readonly producer?: LayerValue;
    }
  /** A tensor's `.shape` / `.size()`: a tuple of dims that may be unknown. */
  | { readonly kind: 'namespace'; readonly path: string }
  | {
      readonly kind: 'function';
      readonly name: string;
      readonly node: SyntaxNode;
      readonly file: SourceFile;
      readonly closure: Scope;
      readonly decorators: readonly string[];
    }
  | { readonly kind: 'builtin'; readonly name: string; readonly call: BuiltinCall }
  | { readonly kind: 'bound'; readonly self: Value; readonly fn: Value }
  | ClassValue
  | ObjectValue
  | LayerValue
  | ContainerValue
  | {
      readonly kind: 'partial';
      readonly fn: Value;
      readonly args: readonly Value[];
      readonly kwargs: ReadonlyMap<string, Value>;
    };

export interface ClassValue {
  readonly kind: 'class';
  readonly name: string;
  readonly file: SourceFile;
  readonly node: SyntaxNode | null;
  readonly bases: readonly Value[];
  readonly attrs: Map<string, Value>;
  /** Dataclass-style fields in declaration order (Flax modules), with their defaults. */
  readonly fields: { name: string; default: Value | undefined }[];
  /** Set by `@dataclass`: the generated `__init__` assigns the fields. */
  readonly dataclass?: boolean;
}

/** An instance of a user-defined class (an nn.Module subclass, a Flax module, anything). */
export interface ObjectValue {
  readonly kind: 'object';
  readonly cls: ClassValue;
  readonly attrs: Map<string, Value>;
  readonly id: number;
}

/** An instance of a framework layer the core knows (`nn.Conv2d(...)`, `layers.Dense(...)`, `nn.Conv(...)`). */
export interface LayerValue {
  readonly kind: 'layer';
  readonly def: LayerDef | null;
  /**
   * The type's name as Python reports it (`type(m).__name__`): the framework class (`Conv2d`, `Conv2DTranspose`,
   * `Conv`), or the user's subclass of it (`class Conv3DSimple(nn.Conv3d)`).
   */
  readonly className: string;
  /** The framework class whose shape rules apply: `Conv3d` for a `Conv3DSimple`. */
  readonly frameworkClass: string;
  readonly framework: Framework;
  /** Arguments as written, after folding: a name maps to its value or to `undefined` when unknown. */
  readonly positional: readonly Value[];
  readonly keyword: ReadonlyMap<string, Value>;
  readonly site: Site;
  readonly id: number;
}

/** nn.Sequential, nn.ModuleList, nn.ModuleDict, keras.Sequential. */
export interface ContainerValue {
  readonly kind: 'container';
  readonly type: 'Sequential' | 'ModuleList' | 'ModuleDict' | 'KerasSequential';
  readonly items: Value[];
  /** For ModuleDict and Sequential(OrderedDict(...)): the names, in order. */
  readonly names: string[];
  readonly site: Site;
}

export type BuiltinCall = (call: CallArguments) => Value;

export interface CallArguments {
  readonly positional: readonly Value[];
  readonly keyword: ReadonlyMap<string, Value>;
  /** The call expression, for layer sites and messages. */
  readonly site: Site | null;
}

/** A scope of names. Module scopes have no parent; function scopes point to their closure. */
export class Scope {
  readonly names = new Map<string, Value>();
  constructor(readonly parent: Scope | null) {}

  lookup(name: string): Value | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
}

export const NONE: Value = { kind: 'none' };
export const UNKNOWN: Value = { kind: 'unknown' };
export const TRUE: Value = { kind: 'bool', value: true };
export const FALSE: Value = { kind: 'bool', value: false };

export const int = (value: number): Value => ({ kind: 'int', value });
export const float = (value: number): Value => ({ kind: 'float', value });
export const str = (value: string): Value => ({ kind: 'str', value });
export const bool = (value: boolean): Value => (value ? TRUE : FALSE);
export const tuple = (items: readonly Value[]): Value => ({ kind: 'tuple', items });
export const tensor = (shape: readonly Dim[] | null, framework: Framework = 'torch'): Value => ({
  kind: 'tensor',
  shape,
  framework,
});

/** A model input (`torch.randn(...)`, `keras.Input(...)`, a traced input): receptive fields count from here. */
export const inputTensor = (shape: readonly Dim[] | null, framework: Framework = 'torch'): Value => ({
  kind: 'tensor',
  shape,
  framework,
  history: [],
});

type History = readonly (readonly DimRule[])[];

/**
 * The history after a layer: its rules appended per spatial dimension; kept as is by layers without spatial
 * rules that keep the rank (norms, activations); lost when the rank changes or the path is not known.
 */
export function extendHistory(
  before: History | undefined,
  rules: readonly DimRule[] | null,
  inputRank: number | null,
  outputRank: number | null,
): History | undefined {
  if (before === undefined) return undefined;
  if (!rules || rules.length === 0)
    return inputRank !== null && inputRank === outputRank ? before : undefined;
  const base = before.length === 0 ? rules.map(() => []) : before;
  if (base.length !== rules.length) return undefined;
  return base.map((list, i) => [...list, rules[i]!]);
}

/** Of two paths joined (a residual add, a concat), the longer one: its window contains the shorter's. */
export function joinHistory(a: History | undefined, b: History | undefined): History | undefined {
  if (a === undefined || b === undefined) return undefined;
  const length = (h: History) => h.reduce((n, list) => n + list.length, 0);
  return length(a) >= length(b) ? a : b;
}

/** The number a value holds, if it is a known int, float or bool. */
export function numberOf(value: Value): number | undefined {
  if (value.kind === 'int' || value.kind === 'float') return value.value;
  if (value.kind === 'bool') return value.value ? 1 : 0;
  // A one-element tensor converts to a Python number (float(t), int(t)).
  if (value.kind === 'tensor' && value.values?.length === 1) return value.values[0];
  return undefined;
}

export function intOf(value: Value): number | undefined {
  if (value.kind === 'int') return value.value;
  if (value.kind === 'bool') return value.value ? 1 : 0;
  // A one-element integer tensor converts to an int where Python wants an index (Tensor.__index__).
  if (value.kind === 'tensor' && value.values?.length === 1 && Number.isInteger(value.values[0]))
    return value.values[0];
  return undefined;
}

/** Python truthiness, or undefined when it cannot be known. */
export function truthy(value: Value): boolean | undefined {
  switch (value.kind) {
    case 'none':
      return false;
    case 'bool':
      return value.value;
    case 'int':
    case 'float':
      return value.value !== 0;
    case 'str':
      return value.value.length > 0;
    case 'tuple':
    case 'list':
      return value.items.length > 0;
    case 'dict':
      return value.entries.size > 0;
    case 'unknown':
    case 'tensor':
      return undefined;
    default:
      return true;
  }
}

/** Items of a sequence value, or undefined when it is not a known sequence. */
export function itemsOf(value: Value): readonly Value[] | undefined {
  if (value.kind === 'tuple' || value.kind === 'list') return value.items;
  if (value.kind === 'container') return value.items;
  if (value.kind === 'dict') return [...value.entries.values()].map((entry) => entry.key);
  if (value.kind === 'str') return [...value.value].map(str);
  return undefined;
}

/** A dictionary key for a value: known scalars only. */
export function keyOf(value: Value): string | undefined {
  switch (value.kind) {
    case 'int':
    case 'float':
      return `n:${value.value}`;
    case 'bool':
      return `n:${value.value ? 1 : 0}`;
    case 'str':
      return `s:${value.value}`;
    case 'none':
      return 'None';
    case 'tuple': {
      const keys = value.items.map(keyOf);
      return keys.every((key) => key !== undefined) ? `t:(${keys.join(',')})` : undefined;
    }
    default:
      return undefined;
  }
}

/** Converts a value to the literal form layer definitions take, or undefined if any part is unknown. */
export function toPyValue(value: Value): PyValue | undefined {
  switch (value.kind) {
    case 'none':
      return null;
    case 'bool':
    case 'int':
    case 'float':
    case 'str':
      return value.value;
    case 'tuple':
    case 'list': {
      const items = value.items.map(toPyValue);
      return items.every((item) => item !== undefined) ? (items as PyValue[]) : undefined;
    }
    default:
      return undefined;
  }
}

/** Converts a literal back to a value. */
export function fromPyValue(value: PyValue): Value {
  if (value === null) return NONE;
  if (typeof value === 'boolean') return bool(value);
  if (typeof value === 'number') return Number.isInteger(value) ? int(value) : float(value);
  if (typeof value === 'string') return str(value);
  return tuple((value as readonly PyValue[]).map(fromPyValue));
}

/** Whether two values are certainly the same (used to merge the two sides of an unknown `if`). */
export function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'none':
    case 'ellipsis':
      return true;
    case 'bool':
    case 'int':
    case 'float':
    case 'str':
      return a.value === (b as typeof a).value;
    case 'tuple':
    case 'list': {
      const other = b as typeof a;
      return (
        a.items.length === other.items.length && a.items.every((item, i) => sameValue(item, other.items[i]!))
      );
    }
    case 'tensor': {
      const other = b as typeof a;
      if ((a.values ?? []).join(',') !== (other.values ?? []).join(',')) return false;
      if (a.shape === null || other.shape === null) return a.shape === other.shape;
      return a.shape.length === other.shape.length && a.shape.every((dim, i) => dim === other.shape![i]);
    }
    case 'namespace':
      return a.path === (b as typeof a).path;
    default:
      return false;
  }
}

/** Merges the values of one name after the two sides of an `if` whose condition is unknown. */
export function joinValues(a: Value, b: Value): Value {
  if (sameValue(a, b)) return a;
  if (a.kind === 'tensor' && b.kind === 'tensor' && a.shape && b.shape && a.shape.length === b.shape.length) {
    return tensor(
      a.shape.map((dim, i) => (dim === b.shape![i] ? dim : null)),
      a.framework,
    );
  }
  if (a.kind === 'tensor' && b.kind === 'tensor') return tensor(null, a.framework);
  return UNKNOWN;
}

/** Python-like rendering for messages and hovers. */
export function describeValue(value: Value): string {
  switch (value.kind) {
    case 'none':
      return 'None';
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'int':
    case 'float':
      return String(value.value);
    case 'str':
      return `'${value.value}'`;
    case 'tuple':
      return value.items.length === 1
        ? `(${describeValue(value.items[0]!)},)`
        : `(${value.items.map(describeValue).join(', ')})`;
    case 'list':
      return `[${value.items.map(describeValue).join(', ')}]`;
    case 'tensor':
      return value.shape ? formatDims(value.shape) : 'tensor of unknown shape';
    case 'layer':
      return `${value.className}(…)`;
    case 'object':
      return `${value.cls.name}(…)`;
    case 'class':
      return value.name;
    default:
      return value.kind === 'unknown' ? '?' : value.kind;
  }
}

/** A shape with unknown dims shown as `?`: (1, 64, ?, ?). */
export function formatDims(shape: readonly Dim[]): string {
  const parts = shape.map((dim) => (dim === null ? '?' : String(dim)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}
