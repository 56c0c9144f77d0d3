/**
 * Shared vocabulary of the arithmetic core. Every framework module describes its layers with these types,
 * so the CLI, the hover, the solver and the renderer read one shape of answer whatever the framework.
 */

/** A value as the user writes it in Python: ints, floats, strings, booleans, None, tuples/lists. */
export type PyValue = number | string | boolean | null | readonly PyValue[];

/** Keyword arguments after binding: every parameter of the signature, defaults filled in. */
export type BoundArgs = Readonly<Record<string, PyValue>>;

export type Framework = 'pytorch' | 'keras' | 'tensorflow' | 'flax' | 'jax' | 'onnx';

/**
 * How one spatial dimension maps input size to output size. Every conv, transposed conv and pooling rule of
 * every framework reduces to one of these, which is what symbolic formulas, receptive fields and the
 * inverse solver work from.
 */
export type DimRule =
  /** out = floor((in + padTotal − kEff) / stride) + 1, or the ceil_mode variant (see `ceilMode`). */
  | {
      readonly kind: 'window';
      readonly kernel: number;
      readonly dilation: number;
      readonly stride: number;
      readonly padBegin: number;
      readonly padEnd: number;
      /** PyTorch/ONNX ceil_mode: round up, but drop a last window that would start in the right padding. */
      readonly ceilMode: boolean;
      /** Extra input dilation (Flax `input_dilation`): the input is spread to (in − 1)·inputDilation + 1. */
      readonly inputDilation?: number;
    }
  /** TF/Keras/ONNX SAME: out = ceil(in / stride); the pads depend on the input size. */
  | {
      readonly kind: 'same';
      readonly kernel: number;
      readonly dilation: number;
      readonly stride: number;
      /** Where the odd pad goes: 'end' (TF, ONNX SAME_UPPER, PyTorch 'same') or 'begin' (SAME_LOWER). */
      readonly extraPadAt: 'begin' | 'end';
    }
  /** out = (in − 1)·stride + kEff − padBegin − padEnd + outputPadding. */
  | {
      readonly kind: 'transposed';
      readonly kernel: number;
      readonly dilation: number;
      readonly stride: number;
      readonly padBegin: number;
      readonly padEnd: number;
      readonly outputPadding: number;
    }
  /** Transposed SAME (Keras/TF/JAX/ONNX SAME_*): out = in · stride. */
  | {
      readonly kind: 'transposed-same';
      readonly kernel: number;
      readonly dilation: number;
      readonly stride: number;
    }
  /** A fixed output size whatever the input (adaptive pooling, an explicit output_shape). */
  | { readonly kind: 'fixed'; readonly size: number };

/** What the core knows about one layer applied to one input shape. */
export interface LayerShape {
  /** The output shape in the framework's layout (batch and channels included). */
  readonly output: number[];
  /** One rule per spatial dimension, in order (D, H, W). */
  readonly dims: DimRule[];
  /** Weight shape in the framework's own layout, or null for layers without weights. */
  readonly weightShape: number[] | null;
  readonly biasShape: number[] | null;
  /** Number of trainable parameters (weight + bias). */
  readonly params: number;
  /** Multiply-accumulates for this input (0 for pooling). */
  readonly macs: number;
  /** Things worth knowing that are not errors: checkerboard risk, rows lost to flooring, … */
  readonly notes: string[];
}

export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = <T = never>(error: string): Outcome<T> => ({ ok: false, error });

/** One parameter of a layer's real signature, in positional order. */
export interface ParamSpec {
  readonly name: string;
  /** Absent means required. */
  readonly default?: PyValue;
  /** Only accepted as a keyword (after `*` in the Python signature). */
  readonly keywordOnly?: boolean;
}

/** Extra call-time information some layers take (PyTorch ConvTranspose `forward(x, output_size=...)`). */
export interface CallOptions {
  readonly outputSize?: readonly number[] | null;
}

/** A layer type of one framework: its signature and its shape rule. */
export interface LayerDef {
  readonly framework: Framework;
  /** Fully qualified name, as in the golden data: `torch.nn.Conv2d`, `flax.linen.Conv`, `onnx.Conv`. */
  readonly name: string;
  readonly params: readonly ParamSpec[];
  /** Short description for help texts. */
  readonly summary: string;
  infer(args: BoundArgs, input: readonly number[], call?: CallOptions): Outcome<LayerShape>;
}
