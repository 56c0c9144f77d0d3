/**
 * A minimal ONNX model writer for the engine benchmark: one Conv or ConvTranspose node whose input X and
 * weight W are both graph inputs (so every run copies both in, as the other libraries do), written as
 * protocol buffers by hand. Only the handful of fields such a model needs are encoded; the field numbers
 * are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto,
 * TypeProto, TensorShapeProto, OperatorSetIdProto).
 */

/** Protocol-buffer wire types: 0 is a varint, 2 is a length-delimited field (strings, bytes, messages). */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** A growable byte buffer that writes protocol-buffer fields in order. */
class Writer {
  private bytes: number[] = [];

  /** Non-negative integers only, which is all an ONNX model of this kind needs (sizes, enums, versions). */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Cannot encode ${value} as a varint.`);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.bytes.push(rest);
    return this;
  }

  private key(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int(field: number, value: number): this {
    return this.key(field, VARINT).varint(value);
  }

  raw(field: number, data: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED).varint(data.length);
    for (const byte of data) this.bytes.push(byte);
    return this;
  }

  string(field: number, text: string): this {
    return this.raw(field, new TextEncoder().encode(text));
  }

  message(field: number, inner: Writer): this {
    return this.raw(field, inner.finish());
  }

  /** A packed repeated int64 field (proto3 packs repeated scalars by default; ONNX readers accept both). */
  packedInts(field: number, values: readonly number[]): this {
    const inner = new Writer();
    for (const value of values) inner.varint(value);
    return this.raw(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** onnx.proto: TensorProto.DataType.FLOAT and AttributeProto.AttributeType.INT / INTS. */
const FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

function intsAttribute(name: string, values: readonly number[]): Writer {
  // AttributeProto: name = 1, ints = 8, type = 20.
  return new Writer().string(1, name).packedInts(8, values).int(20, ATTRIBUTE_INTS);
}

function intAttribute(name: string, value: number): Writer {
  // AttributeProto: name = 1, i = 3, type = 20.
  return new Writer().string(1, name).int(3, value).int(20, ATTRIBUTE_INT);
}

function tensorValueInfo(name: string, shape: readonly number[]): Writer {
  // TensorShapeProto.dim = 1 (Dimension.dim_value = 1); TypeProto.Tensor: elem_type = 1, shape = 2;
  // TypeProto.tensor_type = 1; ValueInfoProto: name = 1, type = 2.
  const dims = new Writer();
  for (const size of shape) dims.message(1, new Writer().int(1, size));
  const tensorType = new Writer().int(1, FLOAT).message(2, dims);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

/** One convolution of the benchmark, in ONNX's terms (PyTorch layout, which ONNX shares). */
export interface OnnxConvSpec {
  readonly op: 'Conv' | 'ConvTranspose';
  readonly xShape: readonly number[];
  readonly wShape: readonly number[];
  readonly yShape: readonly number[];
  readonly strides: readonly number[];
  /** ONNX order: all begins, then all ends. */
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly group: number;
}

/**
 * The bytes of an ONNX model (IR version 8, default opset 17) computing Y = op(X, W) with the given settings.
 * The output shape is declared so that a runtime can check it; ConvTranspose derives it from the pads.
 */
export function convModel(spec: OnnxConvSpec): Uint8Array {
  const kernel = spec.wShape.slice(2);
  // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
  const node = new Writer()
    .string(1, 'X')
    .string(1, 'W')
    .string(2, 'Y')
    .string(3, 'conv')
    .string(4, spec.op)
    .message(5, intsAttribute('kernel_shape', kernel))
    .message(5, intsAttribute('strides', spec.strides))
    .message(5, intsAttribute('pads', spec.pads))
    .message(5, intsAttribute('dilations', spec.dilations))
    .message(5, intAttribute('group', spec.group));
  // GraphProto: node = 1, name = 2, input = 11, output = 12.
  const graph = new Writer()
    .message(1, node)
    .string(2, 'bench')
    .message(11, tensorValueInfo('X', spec.xShape))
    .message(11, tensorValueInfo('W', spec.wShape))
    .message(12, tensorValueInfo('Y', spec.yShape));
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 (domain '' = 1, version = 2).
  return new Writer()
    .int(1, 8)
    .string(2, 'conv-lens-bench')
    .message(7, graph)
    .message(8, new Writer().string(1, '').int(2, 17))
    .finish();
}
