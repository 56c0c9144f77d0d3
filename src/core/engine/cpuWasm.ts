/**
 * The CPU engine's kernels in WebAssembly SIMD, assembled here from a few lines of TypeScript (no toolchain,
 * no binary file; the module is under 2 KiB):
 *  - gemm32: a 4×8 register tile of float32x4 accumulators (four lanes per instruction, as PyTorch's,
 *    XNNPACK's and the GPU's float32 kernels sum);
 *  - gemm64: a 2×8 tile of float64x2 accumulators (each product of two float32 values is exact in float64;
 *    the sum is rounded to float32 once, at the end);
 *  - direct32: one output row of a direct loop (depthwise and the like), tap by tap, in float32.
 * A and B panels are k-major: A[k][row] per row panel, B[k][column] rows of the whole block.
 *
 * Each computes exactly what the engine's JavaScript kernel of the same precision computes: the same
 * products, added in the same order, rounded the same way. So results are bit-for-bit the same with and
 * without WebAssembly, only faster (about 3× for float64, 6× for float32, 2–3× for the direct loop).
 *
 * Where WebAssembly or its SIMD proposal is missing (an old runtime, or a webview whose CSP lacks
 * 'wasm-unsafe-eval'), `createWasmKernels` returns null and the engine keeps its JavaScript kernels.
 */

/** How sums accumulate: float32 lanes (fast, like every float32 library) or float64 (rounded once). */
export type Precision = 'float32' | 'float64';

/** The register tile of each kernel: rows (output channels) and columns (output positions), and value size. */
export const WASM_TILE: Readonly<Record<Precision, { rows: number; columns: number; bytes: number }>> = {
  float32: { rows: 4, columns: 8, bytes: 4 },
  float64: { rows: 2, columns: 8, bytes: 8 },
};

// ---------------------------------------------------------------------------------------- the encoder

const unsignedLeb = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
};

const signedLeb = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
};

const vector = (items: number[][]): number[] => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...unsignedLeb(bytes.length), ...bytes];
const name = (text: string): number[] => [
  ...unsignedLeb(text.length),
  ...Array.from(text, (c) => c.charCodeAt(0)),
];

const I32 = 0x7f;
const V128 = 0x7b;
const localGet = (index: number): number[] => [0x20, ...unsignedLeb(index)];
const localSet = (index: number): number[] => [0x21, ...unsignedLeb(index)];
const localTee = (index: number): number[] => [0x22, ...unsignedLeb(index)];
const i32Const = (value: number): number[] => [0x41, ...signedLeb(value)];
const I32_ADD = [0x6a];
const I32_SUB = [0x6b];
const I32_MUL = [0x6c];
const I32_LT_U = [0x49];
const I32_GT_S = [0x4a];
const I32_GE_S = [0x4e];
const I32_SHL = [0x74];
const F32 = 0x7d;
const F32_ADD = [0x92];
const F32_MUL = [0x94];
const BR = (depth: number): number[] => [0x0c, ...unsignedLeb(depth)];
const I32_EQZ = [0x45];
const LOOP = [0x03, 0x40];
const BLOCK = [0x02, 0x40];
const END = [0x0b];
const brIf = (depth: number): number[] => [0x0d, ...unsignedLeb(depth)];
const simd = (opcode: number, ...immediates: number[]): number[] => [
  0xfd,
  ...unsignedLeb(opcode),
  ...immediates,
];
const memarg = (alignLog2: number, offset: number): number[] => [
  ...unsignedLeb(alignLog2),
  ...unsignedLeb(offset),
];
const I32_LOAD = (offset: number): number[] => [0x28, ...memarg(2, offset)];
const F32_LOAD = (offset: number): number[] => [0x2a, ...memarg(2, offset)];
const F32_STORE = (offset: number): number[] => [0x38, ...memarg(2, offset)];
const V128_LOAD = (offset: number): number[] => simd(0x00, ...memarg(4, offset));
const V128_LOAD32_SPLAT = (offset: number): number[] => simd(0x09, ...memarg(2, offset));
const V128_LOAD64_SPLAT = (offset: number): number[] => simd(0x0a, ...memarg(3, offset));
const V128_STORE = (offset: number): number[] => simd(0x0b, ...memarg(4, offset));
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));
const F32X4_SPLAT = simd(0x13);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const F64X2_ADD = simd(0xf0);
const F64X2_MUL = simd(0xf2);

/**
 * The body of gemm(a, b, c, K, rowPanels, columnPanels) for one precision: for every row panel i of A
 * (K × rows values, k-major) and every 8 columns j of B (row-major K × columnPanels·8, the im2col block),
 * C[rows·i + r][8j + col] = Σ_k A_i[k][r]·B[k][8j + col], summed over k in order in the precision's lanes,
 * C row-major with the same width as B. Row panels outermost: one A panel stays in L1 while the B block
 * streams from L2.
 */
function gemmBody(precision: Precision): number[] {
  const { rows, columns, bytes } = WASM_TILE[precision];
  const lanes = 16 / bytes;
  const vectors = columns / lanes; // v128 per tile row
  // Parameters 0-5; i32 locals 6-12; v128 locals: accumulators (row r, vector v at 13 + r·vectors + v),
  // then the A splat, then the B vectors.
  const [A, B, C, K, ROW_PANELS, COLUMN_PANELS] = [0, 1, 2, 3, 4, 5];
  const [I, J, KK, AP, BP, CP, C_ROW] = [6, 7, 8, 9, 10, 11, 12];
  const accumulator = (row: number, v: number) => 13 + row * vectors + v;
  const accumulators = rows * vectors;
  const SPLAT = 13 + accumulators;
  const bVector = (v: number) => SPLAT + 1 + v;
  const splat = precision === 'float32' ? V128_LOAD32_SPLAT : V128_LOAD64_SPLAT;
  const [mul, add] = precision === 'float32' ? [F32X4_MUL, F32X4_ADD] : [F64X2_MUL, F64X2_ADD];
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const part of parts) code.push(...part);
  };
  emit(localGet(COLUMN_PANELS), i32Const(columns * bytes), I32_MUL, localSet(C_ROW));
  emit(i32Const(0), localSet(I), LOOP);
  emit(i32Const(0), localSet(J), LOOP);
  for (let v = 0; v < accumulators; v++) emit(V128_ZERO, localSet(13 + v));
  emit(
    localGet(A),
    localGet(I),
    localGet(K),
    I32_MUL,
    i32Const(rows * bytes),
    I32_MUL,
    I32_ADD,
    localSet(AP),
  );
  emit(localGet(B), localGet(J), i32Const(columns * bytes), I32_MUL, I32_ADD, localSet(BP));
  emit(localGet(K), localSet(KK), BLOCK, localGet(KK), I32_EQZ, brIf(0), LOOP);
  for (let v = 0; v < vectors; v++) emit(localGet(BP), V128_LOAD(v * 16), localSet(bVector(v)));
  for (let row = 0; row < rows; row++) {
    emit(localGet(AP), splat(row * bytes), localSet(SPLAT));
    for (let v = 0; v < vectors; v++) {
      const acc = accumulator(row, v);
      emit(localGet(acc), localGet(SPLAT), localGet(bVector(v)), mul, add, localSet(acc));
    }
  }
  emit(localGet(AP), i32Const(rows * bytes), I32_ADD, localSet(AP));
  emit(localGet(BP), localGet(C_ROW), I32_ADD, localSet(BP));
  emit(localGet(KK), i32Const(1), I32_SUB, localTee(KK), brIf(0), END, END);
  // The tile's first value: C + i·rows·cRow + j·columns·bytes.
  emit(localGet(C), localGet(I), i32Const(rows), I32_MUL, localGet(C_ROW), I32_MUL, I32_ADD);
  emit(localGet(J), i32Const(columns * bytes), I32_MUL, I32_ADD, localSet(CP));
  for (let row = 0; row < rows; row++) {
    for (let v = 0; v < vectors; v++) emit(localGet(CP), localGet(accumulator(row, v)), V128_STORE(v * 16));
    emit(localGet(CP), localGet(C_ROW), I32_ADD, localSet(CP));
  }
  emit(localGet(J), i32Const(1), I32_ADD, localTee(J), localGet(COLUMN_PANELS), I32_LT_U, brIf(0), END);
  emit(localGet(I), i32Const(1), I32_ADD, localTee(I), localGet(ROW_PANELS), I32_LT_U, brIf(0), END);
  const locals = vector([
    unsignedLeb(7).concat([I32]),
    unsignedLeb(accumulators + 1 + vectors).concat([V128]),
  ]);
  return [...locals, ...code, ...END];
}

/** Bytes of one tap record of the direct kernel: weight (f32), source address (i32), lo, hi (i32). */
export const DIRECT_TAP_BYTES = 16;

/**
 * The body of direct(taps, count, acc, length, bias, step), float32: one output row of a direct loop.
 * acc[j] = bias for j < length (acc padded to whole v128s), then for each tap record in order,
 * acc[j] = acc[j] + weight·x[j·step] for lo ≤ j < hi, where the record's source address points at x[0]
 * (the address of input j = 0, which may itself lie outside the input: only lo ≤ j < hi is read). Each
 * product and each sum is rounded to float32, four outputs per instruction where step is 1.
 */
function directBody(): number[] {
  const [TAPS, COUNT, ACC, LENGTH, BIAS, STEP] = [0, 1, 2, 3, 4, 5];
  const [T, TP, J, HI, SRC, DST] = [6, 7, 8, 9, 10, 11];
  const WEIGHT = 12; // f32
  const [WEIGHTS, BIASES] = [13, 14]; // v128
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const part of parts) code.push(...part);
  };
  // acc[0 .. length) = bias, a whole v128 at a time.
  emit(localGet(BIAS), F32X4_SPLAT, localSet(BIASES));
  emit(i32Const(0), localSet(J), localGet(ACC), localSet(DST));
  emit(BLOCK, localGet(LENGTH), I32_EQZ, brIf(0), LOOP);
  emit(localGet(DST), localGet(BIASES), V128_STORE(0));
  emit(localGet(DST), i32Const(16), I32_ADD, localSet(DST));
  emit(localGet(J), i32Const(4), I32_ADD, localTee(J), localGet(LENGTH), I32_LT_U, brIf(0), END, END);
  // Each tap in order.
  emit(localGet(TAPS), localSet(TP), localGet(COUNT), localSet(T));
  emit(BLOCK, localGet(T), I32_EQZ, brIf(0), LOOP);
  emit(localGet(TP), F32_LOAD(0), localTee(WEIGHT), F32X4_SPLAT, localSet(WEIGHTS));
  emit(localGet(TP), I32_LOAD(4), localSet(SRC));
  emit(localGet(TP), I32_LOAD(8), localSet(J));
  emit(localGet(TP), I32_LOAD(12), localSet(HI));
  // Four at a time while j + 4 ≤ hi, when the input is contiguous (step 1).
  emit(BLOCK, localGet(STEP), i32Const(1), [0x47], brIf(0), LOOP); // i32.ne
  emit(BLOCK, localGet(J), i32Const(4), I32_ADD, localGet(HI), I32_GT_S, brIf(0));
  emit(localGet(ACC), localGet(J), i32Const(2), I32_SHL, I32_ADD, localTee(DST));
  emit(localGet(DST), V128_LOAD(0));
  emit(localGet(WEIGHTS), localGet(SRC), localGet(J), i32Const(2), I32_SHL, I32_ADD, V128_LOAD(0), F32X4_MUL);
  emit(F32X4_ADD, V128_STORE(0));
  emit(localGet(J), i32Const(4), I32_ADD, localSet(J), BR(1), END, END, END);
  // One at a time for the rest (all of it when step is not 1).
  emit(BLOCK, LOOP, localGet(J), localGet(HI), I32_GE_S, brIf(1));
  emit(localGet(ACC), localGet(J), i32Const(2), I32_SHL, I32_ADD, localTee(DST));
  emit(localGet(DST), F32_LOAD(0));
  emit(localGet(WEIGHT), localGet(SRC), localGet(J), localGet(STEP), I32_MUL, i32Const(2), I32_SHL, I32_ADD);
  emit(F32_LOAD(0), F32_MUL, F32_ADD, F32_STORE(0));
  emit(localGet(J), i32Const(1), I32_ADD, localSet(J), BR(0), END, END);
  emit(localGet(TP), i32Const(DIRECT_TAP_BYTES), I32_ADD, localSet(TP));
  emit(localGet(T), i32Const(1), I32_SUB, localTee(T), brIf(0), END, END);
  const locals = vector([
    unsignedLeb(6).concat([I32]),
    unsignedLeb(1).concat([F32]),
    unsignedLeb(2).concat([V128]),
  ]);
  return [...locals, ...code, ...END];
}

/** The module: memory imported from JavaScript; `gemm32`, `gemm64` and `direct32` exported. */
export function kernelModule(): Uint8Array {
  const gemmParams = new Array<number[]>(6).fill([I32]);
  const directParams = [[I32], [I32], [I32], [I32], [F32], [I32]];
  const bodies = [gemmBody('float32'), gemmBody('float64'), directBody()];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vector([
        [0x60, ...vector(gemmParams), 0x00],
        [0x60, ...vector(directParams), 0x00],
      ]),
    ),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...unsignedLeb(1)]])),
    ...section(3, vector([unsignedLeb(0), unsignedLeb(0), unsignedLeb(1)])),
    ...section(
      7,
      vector([
        [...name('gemm32'), 0x00, ...unsignedLeb(0)],
        [...name('gemm64'), 0x00, ...unsignedLeb(1)],
        [...name('direct32'), 0x00, ...unsignedLeb(2)],
      ]),
    ),
    ...section(10, vector(bodies.map((body) => [...unsignedLeb(body.length), ...body]))),
  ]);
}

// --------------------------------------------------------------------------------------- the runtime

/** The little of the WebAssembly JS API used here (the core compiles without DOM or node types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

type GemmFunction = (
  a: number,
  b: number,
  c: number,
  K: number,
  rowPanels: number,
  columnPanels: number,
) => void;
type DirectFunction = (
  taps: number,
  count: number,
  acc: number,
  length: number,
  bias: number,
  step: number,
) => void;

const PAGE = 65536;

/**
 * One WebAssembly instance and its memory. For a GEMM it holds the packed A, the packed B block and the C
 * block; for a direct loop, the input of one group, the tap records of one row and the row itself. The
 * `reserve` methods grow the memory (and renew the views) first; the regions are reused.
 */
export class WasmKernels {
  private readonly memory: WasmMemory;
  private readonly gemms: Readonly<Record<Precision, GemmFunction>>;
  private readonly direct32: DirectFunction;
  /** Views of the whole memory; renewed when it grows. */
  heap32: Float32Array;
  heap64: Float64Array;
  heapI32: Int32Array;
  /** GEMM: offsets of A, B and C in values of the reserved precision (index heap32 or heap64 with them). */
  aStart = 0;
  bStart = 0;
  cStart = 0;
  /** Direct: offsets (float32 values) of the input copy, the tap records and the row. */
  xStart = 0;
  tapStart = 0;
  rowStart = 0;
  private bytes = 4;

  constructor(memory: WasmMemory, gemms: Record<Precision, GemmFunction>, direct32: DirectFunction) {
    this.memory = memory;
    this.gemms = gemms;
    this.direct32 = direct32;
    this.heap32 = new Float32Array(memory.buffer);
    this.heap64 = new Float64Array(memory.buffer);
    this.heapI32 = new Int32Array(memory.buffer);
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (
      this.heap32.buffer !== this.memory.buffer ||
      this.heap32.byteLength !== this.memory.buffer.byteLength
    ) {
      this.heap32 = new Float32Array(this.memory.buffer);
      this.heap64 = new Float64Array(this.memory.buffer);
      this.heapI32 = new Int32Array(this.memory.buffer);
    }
  }

  /** Makes room for A, B and C of the given sizes (in values of `precision`). May throw if memory runs out. */
  reserve(precision: Precision, aSize: number, bSize: number, cSize: number): void {
    this.bytes = WASM_TILE[precision].bytes;
    // Regions start on 16-byte boundaries (whole v128s).
    const align = (values: number) => Math.ceil((values * this.bytes) / 16) * (16 / this.bytes);
    this.aStart = 0;
    this.bStart = align(aSize);
    this.cStart = this.bStart + align(bSize);
    this.ensure((this.cStart + cSize) * this.bytes);
  }

  /** C = A·B over rowPanels row panels and columnPanels 8-column panels, in the reserved precision. */
  gemm(precision: Precision, K: number, rowPanels: number, columnPanels: number): void {
    const b = this.bytes;
    this.gemms[precision](this.aStart * b, this.bStart * b, this.cStart * b, K, rowPanels, columnPanels);
  }

  /**
   * Makes room for an input copy of `xValues` float32 values, `taps` tap records and a row of `rowValues`
   * outputs. May throw if memory runs out.
   */
  reserveDirect(xValues: number, taps: number, rowValues: number): void {
    const align = (values: number) => Math.ceil(values / 4) * 4;
    this.xStart = 0;
    this.tapStart = align(xValues);
    this.rowStart = this.tapStart + (taps * DIRECT_TAP_BYTES) / 4;
    this.ensure((this.rowStart + align(rowValues)) * 4);
  }

  /** One output row from `count` tap records (see directBody), in float32. */
  direct(count: number, length: number, bias: number, step: number): void {
    this.direct32(this.tapStart * 4, count, this.rowStart * 4, length, bias, step);
  }
}

let shared: WasmKernels | null | undefined;

/**
 * The WebAssembly kernels of this thread, created on first use; null where WebAssembly SIMD cannot run
 * here. Compiling is synchronous (the module is under 2 KiB, within every browser's limit for synchronous
 * compilation off and on the main thread).
 */
export function createWasmKernels(): WasmKernels | null {
  if (shared !== undefined) return shared;
  shared = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return null;
  try {
    const memory = new api.Memory({ initial: 16 });
    const instance = new api.Instance(new api.Module(kernelModule()), { env: { memory } });
    const { gemm32, gemm64, direct32 } = instance.exports;
    if (typeof gemm32 === 'function' && typeof gemm64 === 'function' && typeof direct32 === 'function') {
      shared = new WasmKernels(
        memory,
        { float32: gemm32 as GemmFunction, float64: gemm64 as GemmFunction },
        direct32 as DirectFunction,
      );
    }
  } catch {
    // No SIMD, or compilation refused by a content security policy: the JavaScript kernels run instead.
    shared = null;
  }
  return shared;
}
