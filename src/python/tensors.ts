/**
 * Tensors inside the interpreter: `torch.*` / `F.*` / `jnp.*` functions, tensor methods and operators, all
 * answered by the core's shape operations (core/tensor/ops.ts) so every rule lives in one place.
 */
import { applyDimRule } from '../core/arithmetic/dims';
import { layerByQualifiedName } from '../core/arithmetic/registry';
import { bindArguments } from '../core/arithmetic/args';
import * as ops from '../core/tensor/ops';
import { einopsShape, einsumShape } from './einops';
import type { DimRule, Outcome, PyValue } from '../core/arithmetic/types';
import type { Interpreter } from './interpreter';
import { layerAttribute } from './layers';
import type { ArgumentSuggestion, Library } from './library';
import {
  type CallArguments,
  type Dim,
  type Framework,
  type Value,
  int,
  intOf,
  itemsOf,
  str,
  tensor,
  toPyValue,
  tuple,
  UNKNOWN,
  inputTensor,
  joinHistory,
  extendHistory,
} from './values';

type TensorValue = Extract<Value, { kind: 'tensor' }>;

/** Element-wise functions: the output has the input's shape. */
const ELEMENTWISE = new Set([
  'relu',
  'relu_',
  'relu6',
  'leaky_relu',
  'leaky_relu_',
  'gelu',
  'silu',
  'swish',
  'mish',
  'elu',
  'selu',
  'celu',
  'sigmoid',
  'tanh',
  'hardtanh',
  'hardswish',
  'hardsigmoid',
  'softplus',
  'softsign',
  'softmax',
  'log_softmax',
  'dropout',
  'dropout2d',
  'dropout3d',
  'alpha_dropout',
  'normalize',
  'batch_norm',
  'instance_norm',
  'layer_norm',
  'group_norm',
  'local_response_norm',
  'exp',
  'log',
  'sqrt',
  'abs',
  'neg',
  'clamp',
  'clip',
  'contiguous',
  'clone',
  'detach',
  'float',
  'double',
  'half',
  'int',
  'long',
  'bool',
  'to',
  'cuda',
  'cpu',
  'type_as',
  'requires_grad_',
  'sin',
  'cos',
  'pow',
  'square',
  'rsqrt',
  'reciprocal',
  'sign',
  'round',
  'floor',
  'ceil',
  'zero_',
  'fill_',
  'normal_',
  'uniform_',
  'masked_fill',
  'pixel_norm',
  'tanh_',
  'sigmoid_',
  'mul_',
  'add_',
  'div_',
  'sub_',
]);

/** Functions whose two (or more) tensor arguments broadcast together. */
const BROADCASTING = new Set([
  'add',
  'sub',
  'mul',
  'div',
  'maximum',
  'minimum',
  'where',
  'true_divide',
  'subtract',
  'multiply',
]);

/** Broadcasting functions that are arithmetic operators (so known elements can be computed). */
const BROADCAST_OPERATORS: Record<string, string> = {
  add: '+',
  sub: '-',
  subtract: '-',
  mul: '*',
  multiply: '*',
  div: '/',
  true_divide: '/',
};

/** Element-wise functions that keep the elements' values (copies, moves, casts to a wider type). */
const VALUE_PRESERVING = new Set([
  'contiguous',
  'clone',
  'detach',
  'to',
  'cpu',
  'cuda',
  'float',
  'double',
  'long',
]);

function withoutValues(value: Value): Value {
  return value.kind === 'tensor' && value.values ? tensor(value.shape, value.framework) : value;
}

/** The result of an element-wise function: the input's shape; its elements only when the function keeps them. */
function sameShape(input: TensorValue, name: string): Value {
  return VALUE_PRESERVING.has(name) ? input : withoutValues(input);
}

/** Functions creating a tensor from a shape given as sizes: torch.randn(1, 3, 8, 8) or jnp.ones((1, 8, 8, 3)). */
const CREATORS = new Set(['randn', 'rand', 'zeros', 'ones', 'empty', 'full', 'normal', 'uniform', 'randint']);

function shapeFromSizes(args: readonly Value[], interp: Interpreter, library: Library): Dim[] | null {
  const sizes = args.length === 1 && args[0]!.kind !== 'int' ? library.iterate(args[0]!, interp) : args;
  if (!sizes) return null;
  return sizes.map((size) => intOf(size) ?? null);
}

function asShape(value: Value): readonly Dim[] | null | undefined {
  if (value.kind === 'tensor') return value.shape;
  return undefined;
}

function result(
  outcome: Outcome<readonly Dim[]>,
  framework: Framework,
  library: Library,
  site: CallArguments['site'],
  what: string,
  suggestion?: ArgumentSuggestion,
): Value {
  if (outcome.ok) return tensor([...outcome.value], framework);
  // The core refuses what unknown sizes leave open ("squeeze(3) cannot tell whether …"): that is not an error
  // of the model, only the end of what is known.
  if (!/cannot tell/.test(outcome.error)) {
    const advice = suggestion ? ` ${suggestion.title} makes it fit.` : '';
    library.report(site, `${what}: ${outcome.error}${advice}`, 'tensor-op', 'error', suggestion);
  }
  return tensor(null, framework);
}

/**
 * A skip concat that fails only because a transposed conv's output is a little short (the U-Net at odd sizes):
 * when raising that layer's output_padding by the missing amount makes every spatial size match, and the new
 * output_padding stays below the stride (PyTorch's rule), that is the fix.
 */
function outputPaddingSuggestion(parts: readonly TensorValue[], dim: number): ArgumentSuggestion | undefined {
  if (parts.length !== 2 || parts.some((p) => !p.shape || p.shape.some((d) => d === null))) return undefined;
  for (const [index, part] of parts.entries()) {
    const other = parts[1 - index]!;
    const layer = part.producer;
    if (!layer || layer.framework !== 'torch' || !/^ConvTranspose[123]d$/.test(layer.frameworkClass))
      continue;
    const shape = part.shape as number[];
    const target = other.shape as number[];
    if (shape.length !== target.length) continue;
    const rank = Number(layer.frameworkClass.slice(-2, -1));
    const axis = dim < 0 ? dim + shape.length : dim;
    const missing = shape.map((size, i) => (i === axis ? 0 : target[i]! - size));
    if (missing.slice(0, shape.length - rank).some((m) => m !== 0)) continue;
    const spatialMissing = missing.slice(shape.length - rank);
    if (spatialMissing.every((m) => m === 0) || spatialMissing.some((m) => m < 0)) continue;
    const perDim = (value: Value): number[] | undefined => {
      if (value.kind === 'int') return spatialMissing.map(() => value.value);
      const list = itemsOf(value)?.map(intOf);
      return list && list.length === rank && list.every((n) => n !== undefined)
        ? (list as number[])
        : undefined;
    };
    const paddings = perDim(layerAttribute(layer, 'output_padding'));
    const strides = perDim(layerAttribute(layer, 'stride'));
    if (!paddings || !strides) continue;
    const wanted = paddings.map((p, i) => p + spatialMissing[i]!);
    if (wanted.some((p, i) => p >= strides[i]!)) continue;
    const value = wanted.every((p) => p === wanted[0]) ? String(wanted[0]) : `(${wanted.join(', ')})`;
    return {
      layer: layer.site,
      param: 'output_padding',
      value,
      title: `Set output_padding=${value} on the ConvTranspose${rank}d`,
    };
  }
  return undefined;
}

/** Calls a library function (`torch.cat`, `F.interpolate`, `jnp.ones`) on interpreter values. */
export function callTensorFunction(
  path: string,
  args: CallArguments,
  framework: Framework | null,
  library: Library,
  interp: Interpreter,
): Value {
  const name = path.slice(path.lastIndexOf('.') + 1);
  const inTorch = path.startsWith('torch.');
  const inJax = path.startsWith('jax.numpy.') || path.startsWith('numpy.') || path.startsWith('jax.random.');
  const frameworkOf: Framework = framework ?? (inJax ? 'flax' : 'torch');
  const einopsOperation = /^einops\.(rearrange|repeat|reduce)$/.exec(path)?.[1];
  if (einopsOperation) {
    const pattern = args.positional[1] ?? args.keyword.get('pattern');
    return einopsCall(einopsOperation as 'rearrange', args.positional[0], pattern, args, library);
  }
  if (name === 'einsum' && (inTorch || inJax)) return einsumCall(args, library, interp);
  if (!inTorch && !inJax && !path.startsWith('flax.linen.') && !path.startsWith('keras.ops.')) return UNKNOWN;

  if (/^flax\.linen\.(?:pooling\.)?(avg_pool|max_pool|min_pool|pool)$/.test(path))
    return flaxPool(args, library, interp);
  // Functional convs and pools go through the core's functional layer definitions.
  if (path.startsWith('torch.nn.functional.')) {
    const def = layerByQualifiedName(path);
    const input = args.positional[0];
    if (def && input?.kind === 'tensor') return functionalLayer(def.name, args, input, library);
  }
  if (inTorch && (name === 'tensor' || name === 'as_tensor') && path.split('.').length === 2)
    return tensorFromData(args.positional[0] ?? args.keyword.get('data'), library, interp);
  if (CREATORS.has(name) && (inTorch || inJax)) {
    let sizeArgs = args.positional;
    if (name === 'full') sizeArgs = args.positional.slice(0, 1);
    if (name === 'randint') sizeArgs = args.positional.slice(-1);
    if (inJax && name !== 'zeros' && name !== 'ones' && name !== 'empty' && name !== 'full') {
      // jax.random.normal(key, shape)
      sizeArgs = args.keyword.has('shape') ? [args.keyword.get('shape')!] : args.positional.slice(1, 2);
    }
    const size = args.keyword.get('size') ?? args.keyword.get('shape');
    const shape = shapeFromSizes(size ? [size] : sizeArgs, interp, library);
    return inputTensor(shape, frameworkOf);
  }
  if (['zeros_like', 'ones_like', 'randn_like', 'rand_like', 'empty_like', 'full_like'].includes(name)) {
    const input = args.positional[0];
    return input?.kind === 'tensor' ? input : UNKNOWN;
  }
  const input = args.positional[0];
  if (ELEMENTWISE.has(name)) return input?.kind === 'tensor' ? sameShape(input, name) : (input ?? UNKNOWN);
  if (
    input?.kind === 'tensor' ||
    name === 'cat' ||
    name === 'concat' ||
    name === 'concatenate' ||
    name === 'stack'
  ) {
    return tensorMethod(name, input ?? UNKNOWN, args, library, interp, true);
  }
  return UNKNOWN;
}

function functionalLayer(defName: string, args: CallArguments, input: TensorValue, library: Library): Value {
  const def = layerByQualifiedName(defName)!;
  // F.conv2d(x, weight, ...): the weight is a tensor; its shape is what the core reads.
  const positional: PyValue[] = [];
  for (const value of args.positional.slice(1)) {
    const converted =
      value.kind === 'tensor'
        ? value.shape && value.shape.every((d) => d !== null)
          ? [...(value.shape as number[])]
          : undefined
        : toPyValue(value);
    if (converted === undefined) return tensor(null, 'torch');
    positional.push(converted);
  }
  const keyword: Record<string, PyValue> = {};
  for (const [key, value] of args.keyword) {
    const converted =
      value.kind === 'tensor'
        ? value.shape && value.shape.every((d) => d !== null)
          ? [...(value.shape as number[])]
          : undefined
        : toPyValue(value);
    if (converted === undefined) return tensor(null, 'torch');
    keyword[key] = converted;
  }
  if (!input.shape || input.shape.some((d) => d === null))
    return tensor(input.shape ? input.shape.map(() => null) : null, 'torch');
  const bound = bindArguments(def.name, def.params, positional, keyword);
  if (!bound.ok) return tensor(null, 'torch');
  const inferred = def.infer(bound.value, input.shape as number[]);
  if (!inferred.ok) {
    library.report(args.site, inferred.error, 'shape-error');
    return tensor(null, 'torch');
  }
  return tensor(inferred.value.output, 'torch');
}

/** Reads a dim argument (int, possibly negative), or undefined. */
function dimArg(args: CallArguments, index: number, name: string): number | undefined {
  const value = args.keyword.get(name) ?? args.positional[index];
  return value ? intOf(value) : undefined;
}

/** The shapes of a list of tensors, or undefined when any of them (or the list) is unknown. */
function shapesOf(value: Value, library: Library, interp: Interpreter): (readonly Dim[])[] | undefined {
  const items = library.iterate(value, interp);
  if (!items || items.some((item) => item.kind !== 'tensor' || item.shape === null)) return undefined;
  return items.map((item) => (item as TensorValue).shape!);
}

/**
 * A tensor method or function on a tensor: `x.view(...)`, `torch.cat([a, b], 1)`. `asFunction` is true when called
 * as `torch.name(x, ...)`, so the tensor is the first positional argument.
 */
function tensorMethod(
  name: string,
  self: Value,
  rawArgs: CallArguments,
  library: Library,
  interp: Interpreter,
  asFunction: boolean,
): Value {
  const args: CallArguments = asFunction ? { ...rawArgs, positional: rawArgs.positional.slice(1) } : rawArgs;
  const framework: Framework = self.kind === 'tensor' ? self.framework : 'torch';
  const shape = self.kind === 'tensor' ? self.shape : null;
  const site = rawArgs.site;
  const ints = (values: readonly Value[]): (number | null)[] => values.map((v) => intOf(v) ?? null);
  const sizesFrom = (values: readonly Value[]): (number | null)[] | undefined => {
    const list =
      values.length === 1 && (values[0]!.kind === 'tuple' || values[0]!.kind === 'list')
        ? itemsOf(values[0]!)
        : values;
    return list ? ints(list) : undefined;
  };

  switch (name) {
    case 'cat':
    case 'concat':
    case 'concatenate': {
      const list = rawArgs.positional[0] ?? UNKNOWN;
      const shapes = shapesOf(list, library, interp);
      const dim =
        dimArg(rawArgs, 1, name === 'concatenate' ? 'axis' : 'dim') ??
        (rawArgs.keyword.has('axis') ? intOf(rawArgs.keyword.get('axis')!) : 0) ??
        0;
      if (!shapes) return tensor(null, framework);
      const parts = (library.iterate(list, interp) ?? []) as TensorValue[];
      const frameworkOfList = parts[0]?.framework ?? framework;
      const catOutcome = ops.cat(shapes, dim);
      const suggestion = catOutcome.ok ? undefined : outputPaddingSuggestion(parts, dim);
      const joined = result(
        catOutcome,
        frameworkOfList,
        library,
        site,
        `torch.cat along dim ${dim}`,
        suggestion,
      );
      // A skip concat sees what its deepest input saw: the receptive field follows the longest path.
      const history = parts.map((part) => part.history).reduce((a, b) => joinHistory(a, b));
      return joined.kind === 'tensor' && joined.shape && history ? { ...joined, history } : joined;
    }
    case 'stack': {
      const shapes = shapesOf(rawArgs.positional[0] ?? UNKNOWN, library, interp);
      const dim = dimArg(rawArgs, 1, 'dim') ?? 0;
      if (!shapes) return tensor(null, framework);
      return result(ops.stack(shapes, dim), framework, library, site, `torch.stack along dim ${dim}`);
    }
  }
  if (shape === null) {
    // Unknown shape: shape-preserving methods keep it unknown; everything else is unknown too.
    if (name === 'size' || name === 'dim') return UNKNOWN;
    return tensor(null, framework);
  }
  if (ELEMENTWISE.has(name)) return self.kind === 'tensor' ? sameShape(self, name) : self;
  if (BROADCASTING.has(name)) {
    const other = args.positional[0];
    const operator = BROADCAST_OPERATORS[name];
    if (other && operator) return tensorBinary(operator, self, other, library, interp, site);
    if (other?.kind === 'tensor') return withoutValues(tensorBinary('+', self, other, library, interp, site));
    return self.kind === 'tensor' ? withoutValues(self) : self;
  }
  switch (name) {
    case 'size': {
      if (args.positional.length === 0 && !args.keyword.has('dim'))
        return tuple(shape.map((d) => (d === null ? UNKNOWN : int(d))));
      const dim = dimArg(args, 0, 'dim');
      if (dim === undefined) return UNKNOWN;
      const index = dim < 0 ? shape.length + dim : dim;
      const d = shape[index];
      return d === undefined || d === null ? UNKNOWN : int(d);
    }
    case 'dim':
    case 'ndimension':
      return int(shape.length);
    case 'item':
    case 'tolist': {
      const values = self.kind === 'tensor' ? self.values : undefined;
      if (!values) return UNKNOWN;
      const numbers = values.map((v) =>
        Number.isInteger(v) ? int(v) : ({ kind: 'float', value: v } as Value),
      );
      if (name === 'item') return values.length === 1 ? numbers[0]! : UNKNOWN;
      return shape.length === 0 ? numbers[0]! : { kind: 'list', items: numbers };
    }
    case 'numel': {
      return shape.every((d) => d !== null) ? int((shape as number[]).reduce((a, b) => a * b, 1)) : UNKNOWN;
    }
    case 'view':
    case 'reshape': {
      const target = sizesFrom(args.positional);
      if (!target) return tensor(null, framework);
      return result(ops.reshape(shape, target), framework, library, site, `${name}${formatTarget(target)}`);
    }
    case 'view_as':
    case 'reshape_as':
    case 'expand_as': {
      const other = args.positional[0];
      return other?.kind === 'tensor' ? tensor(other.shape, framework) : tensor(null, framework);
    }
    case 'flatten': {
      const start = dimArg(args, 0, 'start_dim') ?? (asFunction ? 0 : 0);
      const end = dimArg(args, 1, 'end_dim') ?? -1;
      return result(ops.flatten(shape, start, end), framework, library, site, 'flatten');
    }
    case 'unflatten': {
      const dim = dimArg(args, 0, 'dim');
      const sizes = args.positional[1] ? sizesFrom([args.positional[1]]) : undefined;
      if (dim === undefined || !sizes) return tensor(null, framework);
      return result(ops.unflatten(shape, dim, sizes), framework, library, site, 'unflatten');
    }
    case 'permute': {
      const dims = sizesFrom(args.positional);
      if (!dims || dims.some((d) => d === null))
        return tensor(
          shape.map(() => null),
          framework,
        );
      return result(ops.permute(shape, dims as number[]), framework, library, site, 'permute');
    }
    case 'transpose':
    case 'swapaxes': {
      const d0 = dimArg(args, 0, 'dim0');
      const d1 = dimArg(args, 1, 'dim1');
      if (d0 === undefined || d1 === undefined)
        return tensor(
          shape.map(() => null),
          framework,
        );
      return result(ops.transpose(shape, d0, d1), framework, library, site, 'transpose');
    }
    case 't':
      return shape.length === 2 ? tensor([shape[1]!, shape[0]!], framework) : self;
    case 'squeeze': {
      const dim = dimArg(args, 0, 'dim');
      if ((args.positional.length > 0 || args.keyword.has('dim')) && dim === undefined)
        return tensor(null, framework);
      return result(ops.squeeze(shape, dim), framework, library, site, 'squeeze');
    }
    case 'unsqueeze': {
      const dim = dimArg(args, 0, 'dim');
      if (dim === undefined) return tensor(null, framework);
      return result(ops.unsqueeze(shape, dim), framework, library, site, 'unsqueeze');
    }
    case 'expand': {
      const sizes = sizesFrom(args.positional);
      if (!sizes) return tensor(null, framework);
      return result(ops.expand(shape, sizes), framework, library, site, 'expand');
    }
    case 'repeat': {
      const sizes = sizesFrom(args.positional);
      if (!sizes || sizes.some((n) => n === null)) return tensor(null, framework);
      return result(ops.repeat(shape, sizes as number[]), framework, library, site, 'repeat');
    }
    case 'mean':
    case 'sum':
    case 'amax':
    case 'amin':
    case 'max':
    case 'min':
    case 'prod':
    case 'std':
    case 'var':
    case 'norm':
    case 'logsumexp':
    case 'argmax':
    case 'argmin': {
      const dimValue =
        args.keyword.get('dim') ??
        args.keyword.get('axis') ??
        (name === 'norm' ? args.positional[1] : args.positional[0]);
      const keepdim =
        args.keyword.get('keepdim') ??
        args.keyword.get('keepdims') ??
        (name === 'norm' ? undefined : args.positional[1]);
      const keep = keepdim?.kind === 'bool' ? keepdim.value : false;
      let dims: number[] | null = null;
      if (dimValue !== undefined && dimValue.kind !== 'none') {
        const list = itemsOf(dimValue) ?? [dimValue];
        const numbers = list.map(intOf);
        if (numbers.some((n) => n === undefined)) return tensor(null, framework);
        dims = numbers as number[];
      }
      const reduced = ops.reduce(shape, dims, keep);
      const value = result(reduced, framework, library, site, name);
      // torch.max(x, dim) returns (values, indices).
      if ((name === 'max' || name === 'min') && dims !== null && framework === 'torch')
        return tuple([value, value]);
      return value;
    }
    case 'chunk':
    case 'split':
    case 'tensor_split': {
      const sizeArg = args.positional[0];
      const dim = dimArg(args, 1, 'dim') ?? 0;
      if (!sizeArg) return UNKNOWN;
      const sections = itemsOf(sizeArg)?.map(intOf);
      if (sections?.some((n) => n === undefined)) return UNKNOWN;
      const outcome =
        name === 'chunk'
          ? ops.chunk(shape, intOf(sizeArg) ?? -1, dim)
          : ops.split(shape, sections ? (sections as number[]) : (intOf(sizeArg) ?? -1), dim);
      if (!outcome.ok) return UNKNOWN;
      return tuple(outcome.value.map((part) => tensor([...part], framework)));
    }
    case 'matmul':
    case 'mm':
    case 'bmm': {
      const other = args.positional[0];
      if (other?.kind !== 'tensor' || !other.shape) return tensor(null, framework);
      return result(ops.matmul(shape, other.shape), framework, library, site, name);
    }
    case 'interpolate':
    case 'upsample':
    case 'resize': {
      const size = args.keyword.get('size') ?? args.positional[0];
      const scale = args.keyword.get('scale_factor') ?? args.positional[1];
      const read = (value: Value | undefined): PyValue | undefined =>
        value === undefined ? undefined : toPyValue(value);
      const sizeArg = read(size);
      const scaleArg = read(scale);
      if ((size && sizeArg === undefined) || (scale && scaleArg === undefined))
        return tensor(
          shape.map((d, i) => (i < 2 ? d : null)),
          framework,
        );
      const outcome = ops.interpolate(shape, {
        size: sizeArg,
        scale_factor: scaleArg,
        mode: read(args.keyword.get('mode') ?? args.positional[2]),
        align_corners: read(args.keyword.get('align_corners') ?? args.positional[3]),
        recompute_scale_factor: read(args.keyword.get('recompute_scale_factor')),
      });
      return result(outcome, framework, library, site, 'F.interpolate');
    }
    case 'pad': {
      const padsValue = args.keyword.get('pad') ?? args.positional[0];
      const pads = padsValue ? itemsOf(padsValue) : undefined;
      const padNumbers = pads?.map(intOf);
      if (!padNumbers || padNumbers.some((n) => n === undefined))
        return tensor(
          shape.map(() => null),
          framework,
        );
      const mode = args.keyword.get('mode') ?? args.positional[1];
      return result(
        ops.pad(shape, padNumbers as number[], mode?.kind === 'str' ? mode.value : 'constant'),
        framework,
        library,
        site,
        'F.pad',
      );
    }
    case 'adaptive_avg_pool2d':
    case 'adaptive_max_pool2d':
    case 'adaptive_avg_pool1d':
    case 'adaptive_avg_pool3d':
      return UNKNOWN;
  }
  return tensor(null, framework);
}

function formatTarget(target: readonly (number | null)[]): string {
  return `(${target.map((t) => (t === null ? '?' : String(t))).join(', ')})`;
}

/** `x.name`: shape reads (`x.shape`, `x.ndim`) and bound methods (`x.view`). */
export function tensorAttribute(
  self: TensorValue,
  name: string,
  library: Library,
  interp: Interpreter,
): Value {
  if (name === 'shape') {
    return self.shape ? tuple(self.shape.map((d) => (d === null ? UNKNOWN : int(d)))) : UNKNOWN;
  }
  if (name === 'ndim') return self.shape ? int(self.shape.length) : UNKNOWN;
  if (name === 'T') return self.shape ? tensor([...self.shape].reverse(), self.framework) : self;
  if (['dtype', 'device', 'data', 'grad', 'is_cuda', 'requires_grad'].includes(name)) {
    return name === 'data' ? self : UNKNOWN;
  }
  return {
    kind: 'builtin',
    name: `Tensor.${name}`,
    call: (args) => tensorMethod(name, self, args, library, interp, false),
  };
}

/** `x[...]`: indexing and slicing of a tensor. */
export function tensorItem(self: TensorValue, index: Value, library: Library, _interp: Interpreter): Value {
  if (!self.shape) return tensor(null, self.framework);
  const items = index.kind === 'tuple' ? index.items : [index];
  const converted: ops.IndexItem[] = [];
  const bound = (v: Value): ops.SliceBound => (v.kind === 'none' ? null : (intOf(v) ?? 'unknown'));
  for (const item of items) {
    if (item.kind === 'none') converted.push(null);
    else if (item.kind === 'ellipsis') converted.push('...');
    else if (item.kind === 'slice')
      converted.push({ start: bound(item.start), stop: bound(item.stop), step: bound(item.step) });
    else if (item.kind === 'int' || item.kind === 'bool') converted.push(intOf(item)!);
    else if (item.kind === 'tensor') {
      if (!item.shape) return tensor(null, self.framework);
      converted.push({ array: item.shape });
    } else return tensor(null, self.framework);
  }
  const outcome = ops.index(self.shape, converted);
  if (!outcome.ok) {
    library.report(null, outcome.error, 'tensor-op');
    return tensor(null, self.framework);
  }
  return tensor([...outcome.value], self.framework);
}

/** Arithmetic with a tensor on either side: shapes broadcast (numbers and unknowns leave the tensor's shape). */
export function tensorBinary(
  operator: string,
  a: Value,
  b: Value,
  library: Library,
  _interp: Interpreter,
  site: CallArguments['site'] = null,
): Value {
  const framework = a.kind === 'tensor' ? a.framework : b.kind === 'tensor' ? b.framework : 'torch';
  if (['==', '!=', '<', '>', '<=', '>=', 'is', 'is not', 'in', 'not in'].includes(operator)) {
    if (operator === 'is' || operator === 'is not') return UNKNOWN;
  }
  const exact = valueArithmetic(operator, a, b, framework);
  if (exact) return exact;
  const shapeA = asShape(a);
  const shapeB = asShape(b);
  if (operator === '@') {
    if (!shapeA || !shapeB) return tensor(null, framework);
    return result(ops.matmul(shapeA, shapeB), framework, library, site, 'matmul');
  }
  if (shapeA === undefined) return b.kind === 'tensor' ? tensor(shapeB ?? null, framework) : UNKNOWN;
  if (shapeB === undefined) return tensor(shapeA, framework);
  if (shapeA === null || shapeB === null) return tensor(null, framework);
  const verbs: Record<string, string> = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide' };
  const outcome = ops.broadcast(shapeA, shapeB, verbs[operator] ?? 'broadcast');
  if (!outcome.ok) {
    library.report(site, outcome.error, 'broadcast');
    return tensor(null, framework);
  }
  const history = a.kind === 'tensor' && b.kind === 'tensor' ? joinHistory(a.history, b.history) : undefined;
  return { kind: 'tensor', shape: [...outcome.value], framework, ...(history ? { history } : {}) };
}

/** einops.rearrange / repeat / reduce of one tensor (and the Rearrange / Reduce modules' calls). */
export function einopsCall(
  operation: 'rearrange' | 'repeat' | 'reduce',
  input: Value | undefined,
  pattern: Value | undefined,
  args: CallArguments,
  library: Library,
): Value {
  if (input?.kind !== 'tensor') return UNKNOWN;
  if (!input.shape || pattern?.kind !== 'str') return tensor(null, input.framework);
  const lengths = new Map<string, number | null>();
  for (const [key, value] of args.keyword)
    if (key !== 'pattern' && key !== 'reduction') lengths.set(key, intOf(value) ?? null);
  const outcome = einopsShape(operation, input.shape, pattern.value, lengths);
  if (outcome.ok) return tensor(outcome.shape, input.framework);
  if (outcome.error)
    library.report(args.site, `einops.${operation}('${pattern.value}'): ${outcome.error}`, 'tensor-op');
  return tensor(null, input.framework);
}

/** torch.einsum(equation, *operands) (operands may also come as one list). */
function einsumCall(args: CallArguments, library: Library, interp: Interpreter): Value {
  const equation = args.positional[0];
  let operands = args.positional.slice(1);
  if (operands.length === 1 && operands[0]!.kind !== 'tensor')
    operands = [...(library.iterate(operands[0]!, interp) ?? [])];
  const framework = operands.find((o): o is TensorValue => o.kind === 'tensor')?.framework ?? 'torch';
  if (equation?.kind !== 'str' || operands.some((o) => o.kind !== 'tensor' || !o.shape))
    return tensor(null, framework);
  const outcome = einsumShape(
    equation.value,
    operands.map((o) => (o as TensorValue).shape!),
  );
  if (outcome.ok) return tensor(outcome.shape, framework);
  if (outcome.error) library.report(args.site, outcome.error, 'tensor-op');
  return tensor(null, framework);
}

/** The elements of a tensor built from Python numbers, or of a number (as a 0-d operand). */
function elementsOf(value: Value): { values: readonly number[]; shape: readonly Dim[] } | undefined {
  if (value.kind === 'tensor' && value.values && value.shape)
    return { values: value.values, shape: value.shape };
  if (value.kind === 'int' || value.kind === 'float') return { values: [value.value], shape: [] };
  if (value.kind === 'bool') return { values: [value.value ? 1 : 0], shape: [] };
  return undefined;
}

/**
 * Arithmetic between small tensors of known elements (torch.tensor([h2 - h1]) // 2): the elements are computed,
 * element by element with broadcasting of one-element operands, so they can still size a pad or a view.
 */
function valueArithmetic(operator: string, a: Value, b: Value, framework: Framework): Value | undefined {
  const x = elementsOf(a);
  const y = elementsOf(b);
  if (!x || !y || (a.kind !== 'tensor' && b.kind !== 'tensor')) return undefined;
  if (x.values.length !== y.values.length && x.values.length !== 1 && y.values.length !== 1) return undefined;
  const apply: Record<string, (p: number, q: number) => number> = {
    '+': (p, q) => p + q,
    '-': (p, q) => p - q,
    '*': (p, q) => p * q,
    '/': (p, q) => p / q,
    '//': (p, q) => Math.floor(p / q),
    '%': (p, q) => p - Math.floor(p / q) * q,
  };
  const fn = apply[operator];
  if (!fn) return undefined;
  const length = Math.max(x.values.length, y.values.length);
  const values: number[] = [];
  for (let i = 0; i < length; i++) {
    const p = x.values[x.values.length === 1 ? 0 : i]!;
    const q = y.values[y.values.length === 1 ? 0 : i]!;
    if ((operator === '/' || operator === '//' || operator === '%') && q === 0) return undefined;
    values.push(fn(p, q));
  }
  const shape = x.shape.length >= y.shape.length ? x.shape : y.shape;
  return { kind: 'tensor', shape, framework, values };
}

/** torch.tensor(data): a tensor of the data's nesting; a flat list of numbers (or a number) keeps its elements. */
function tensorFromData(data: Value | undefined, library: Library, interp: Interpreter): Value {
  if (!data) return UNKNOWN;
  if (data.kind === 'int' || data.kind === 'float' || data.kind === 'bool') {
    const n = data.kind === 'bool' ? (data.value ? 1 : 0) : data.value;
    return { kind: 'tensor', shape: [], framework: 'torch', values: [n] };
  }
  const items = data.kind === 'list' || data.kind === 'tuple' ? library.iterate(data, interp) : undefined;
  if (!items) return tensor(null, 'torch');
  const numbers = items.map((item) =>
    item.kind === 'int' || item.kind === 'float'
      ? item.value
      : item.kind === 'bool'
        ? Number(item.value)
        : undefined,
  );
  if (numbers.every((n) => n !== undefined))
    return { kind: 'tensor', shape: [items.length], framework: 'torch', values: numbers as number[] };
  // Nested lists: the shape is the nesting, when every level is known and regular.
  const inner = items.map((item) => tensorFromData(item, library, interp));
  const first = inner[0];
  if (first?.kind !== 'tensor' || !first.shape) return tensor(items.length === 0 ? [0] : null, 'torch');
  const same = inner.every(
    (t) => t.kind === 'tensor' && t.shape && t.shape.join(',') === first.shape!.join(','),
  );
  return tensor(same ? [items.length, ...first.shape] : null, 'torch');
}

/**
 * flax.linen.avg_pool / max_pool / min_pool (flax/linen/pooling.py, over lax.reduce_window): the window slides
 * over the dimensions between the batch and the features, (N, *spatial, C) or unbatched (*spatial, C).
 * padding 'VALID': ⌊(in − k)/s⌋ + 1; 'SAME': ⌈in/s⌉; explicit (low, high) pairs: ⌊(in + low + high − k)/s⌋ + 1.
 */
function flaxPool(args: CallArguments, library: Library, interp: Interpreter): Value {
  const input = args.positional[0];
  if (input?.kind !== 'tensor') return UNKNOWN;
  const window = library
    .iterate(args.keyword.get('window_shape') ?? args.positional[1] ?? UNKNOWN, interp)
    ?.map(intOf);
  if (!input.shape || !window || window.some((k) => k === undefined)) return tensor(null, 'flax');
  const rank = window.length;
  const stridesValue = args.keyword.get('strides') ?? args.positional[2];
  const strides =
    stridesValue && stridesValue.kind !== 'none'
      ? library.iterate(stridesValue, interp)?.map(intOf)
      : window.map(() => 1);
  if (!strides || strides.length !== rank || strides.some((s) => s === undefined || s < 1))
    return tensor(null, 'flax');
  const paddingValue = args.keyword.get('padding') ?? args.positional[3] ?? str('VALID');
  const shape = input.shape;
  const first = shape.length - 1 - rank;
  if (first < 0) {
    library.report(
      args.site,
      `pooling: a ${rank}-D window needs an input with at least ${rank + 1} dimensions, got ${shape.length}.`,
      'shape-error',
    );
    return tensor(null, 'flax');
  }
  const output: Dim[] = [...shape];
  const rules: DimRule[] = [];
  for (let i = 0; i < rank; i++) {
    const size = shape[first + i]!;
    const k = window[i]!;
    const s = strides[i]!;
    let rule: DimRule;
    if (paddingValue.kind === 'str') {
      const mode = paddingValue.value.toUpperCase();
      rule =
        mode === 'SAME'
          ? { kind: 'same', kernel: k, dilation: 1, stride: s, extraPadAt: 'end' }
          : { kind: 'window', kernel: k, dilation: 1, stride: s, padBegin: 0, padEnd: 0, ceilMode: false };
    } else {
      const pair = library.iterate(library.iterate(paddingValue, interp)?.[i] ?? UNKNOWN, interp)?.map(intOf);
      if (!pair || pair.length !== 2 || pair.some((p) => p === undefined)) return tensor(null, 'flax');
      rule = {
        kind: 'window',
        kernel: k,
        dilation: 1,
        stride: s,
        padBegin: pair[0]!,
        padEnd: pair[1]!,
        ceilMode: false,
      };
    }
    output[first + i] = size === null ? null : Math.max(0, applyDimRule(rule, size));
    rules.push(rule);
  }
  // Pooling widens the receptive field like any window: the path goes on through it.
  const history = extendHistory(input.history, rules, shape.length, output.length);
  return { kind: 'tensor', shape: output, framework: 'flax', ...(history ? { history } : {}) };
}
