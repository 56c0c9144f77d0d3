/// <reference types="@webgpu/types" />
/**
 * The WebGPU engine: convolution and transposed convolution as WGSL compute shaders (src/core/engine/wgsl.ts).
 * It uses nothing but the WebGPU API handed to it (`navigator.gpu` in a webview, Dawn's `create()` in Node),
 * so the same code runs in a webview, the extension host and the CLI.
 *
 * How a problem runs:
 * - `validateProblem` (src/core/engine/shape.ts) checks it and gives the output shape and the work; nothing
 *   is allocated before that, and the limits (elements, MACs) are refused there.
 * - `planPhases` splits the output into phases. A plain conv is one phase; a transposed conv with stride s is
 *   computed directly, one phase per output residue modulo s, each visiting only the kernel taps that land on
 *   it, so no zero-inserted input is ever built and no tap is tested and skipped.
 * - Small channel counts run the direct kernel (one invocation per output element); large ones the tiled
 *   implicit-GEMM kernel (workgroup-memory tiles, 4×4 outputs per invocation).
 * - The adapter's limits are respected: tensors beyond the largest storage binding are split along the batch,
 *   and dispatches beyond maxComputeWorkgroupsPerDimension are split; what cannot be split (a weight, or one
 *   batch item, larger than a binding) is refused with a message saying to use the CPU engine.
 * - A lost device is noticed and a new one is requested; a run that meets a lost device is retried once on a
 *   fresh device.
 */
import type { Outcome } from '../arithmetic/types';
import { fail, ok } from '../arithmetic/types';
import { type ConvGeometry, validateProblem } from './shape';
import {
  type ConvEngine,
  type ConvProblem,
  type ConvResult,
  DEFAULT_LIMITS,
  type EngineLimits,
} from './types';
import { DIRECT_KERNEL, PARAM, PARAMS_BYTES, TILED_KERNEL, type WgslKernel } from './wgsl';

// WebGPU's flag values, fixed by the specification. They are spelled out here rather than read from the
// globals (GPUBufferUsage, ...) because Dawn in Node only provides those globals when asked to.
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_UNIFORM = 0x0040;
const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;
const STAGE_COMPUTE = 0x4;

/** Largest index the kernels' 32-bit arithmetic can hold. */
const INDEX_LIMIT = 2 ** 31 - 1;
/** Buffers of one submission, in bytes, before the next problem goes to a new submission. */
const SUBMISSION_BYTES = 128 * 1024 * 1024;

export type KernelChoice = 'auto' | 'direct' | 'tiled';

export interface WebGpuEngineOptions {
  /** Work limits checked before anything is allocated (DEFAULT_LIMITS when absent). */
  readonly limits?: EngineLimits;
  /** Which kernel runs: 'auto' picks the tiled one for large channel counts. Tests force each one. */
  readonly kernel?: KernelChoice;
  /**
   * Caps on the device limits the engine relies on, below what the adapter offers. The engine then splits
   * work as it would on a smaller GPU; tests use this to exercise the splitting paths.
   */
  readonly deviceLimits?: Partial<DeviceCaps>;
  readonly powerPreference?: GPUPowerPreference;
  /** Bytes of buffers in one submission before the next problem starts a new one (default 128 MiB). */
  readonly submissionBytes?: number;
}

/** The device limits the engine plans with. */
export interface DeviceCaps {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

export interface WebGpuEngine extends ConvEngine {
  /**
   * Runs many problems in as few submissions as their sizes allow (one for small problems), answering in
   * order; a bad problem gets its own failure and does not stop the others. Each result's `milliseconds` is
   * its share of its submission's wall time.
   */
  runBatch(problems: readonly ConvProblem[]): Promise<Outcome<ConvResult>[]>;
  /** What the adapter says it is ("SwiftShader", "NVIDIA H100 ...", ...); empty before the first device. */
  readonly adapterDescription: string;
}

// ---------------------------------------------------------------------------------------------------------
// Planning: pure arithmetic, no GPU.
// ---------------------------------------------------------------------------------------------------------

/** One spatial dimension of a phase (see wgsl.ts for how the kernels read these numbers). */
export interface DimPhase {
  /** First output position of the phase, and the step between its outputs. */
  readonly oStart: number;
  readonly oStep: number;
  /** Number of outputs of the phase. */
  readonly jCount: number;
  /** Input position of output j, tap t: base + jStep·j + tStep·t. */
  readonly base: number;
  readonly jStep: number;
  readonly tStep: number;
  /** Kernel taps of the phase: kStart + kStep·t for t < tCount. */
  readonly kStart: number;
  readonly kStep: number;
  readonly tCount: number;
}

/** A phase of the whole problem: one DimPhase per dimension, always three (D, H, W). */
export type Phase = readonly [DimPhase, DimPhase, DimPhase];

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The phases of one dimension.
 * Conv (one phase): output o reads input o·s − padBegin + k·d for every tap k (PyTorch's cross-correlation).
 * Transposed: input i and tap k reach output o = i·s − padBegin + k·d (PyTorch's conv_transpose, the
 * gradient of conv). For an output o the taps that reach it are those with k·d ≡ o + padBegin (mod s); with
 * g = gcd(s, d) they exist only when g divides o + padBegin, and then form k = k0 + (s/g)·t, reading
 * i = (o + padBegin − k·d)/s. Outputs with the same residue r = o mod s share k0, so each residue is a
 * dense correlation: o = r + s·j reads i = (r + padBegin − k0·d)/s + j − (d/g)·t.
 */
export function dimPhases(
  op: 'conv' | 'conv_transpose',
  inSize: number,
  outSize: number,
  kernel: number,
  stride: number,
  dilation: number,
  padBegin: number,
): DimPhase[] {
  if (op === 'conv') {
    return [
      {
        oStart: 0,
        oStep: 1,
        jCount: outSize,
        base: -padBegin,
        jStep: stride,
        tStep: dilation,
        kStart: 0,
        kStep: 1,
        tCount: kernel,
      },
    ];
  }
  const g = gcd(stride, dilation);
  const kStep = stride / g;
  const phases: DimPhase[] = [];
  for (let r = 0; r < Math.min(stride, outSize); r++) {
    const jCount = Math.ceil((outSize - r) / stride);
    let kStart = -1;
    for (let k = 0; k < Math.min(kStep, kernel); k++) {
      if ((((r + padBegin - k * dilation) % stride) + stride) % stride === 0) {
        kStart = k;
        break;
      }
    }
    if (kStart < 0) {
      // No tap lands on this residue: its outputs are the bias alone.
      phases.push({
        oStart: r,
        oStep: stride,
        jCount,
        base: 0,
        jStep: 1,
        tStep: 0,
        kStart: 0,
        kStep: 1,
        tCount: 0,
      });
      continue;
    }
    phases.push({
      oStart: r,
      oStep: stride,
      jCount,
      base: (r + padBegin - kStart * dilation) / stride,
      jStep: 1,
      tStep: -dilation / g,
      kStart,
      kStep,
      tCount: Math.ceil((kernel - kStart) / kStep),
    });
  }
  return phases;
}

/** A dimension that is not there (the D of a 2-D problem): one output, one tap, read at 0. */
const UNIT_DIM: DimPhase = {
  oStart: 0,
  oStep: 1,
  jCount: 1,
  base: 0,
  jStep: 1,
  tStep: 1,
  kStart: 0,
  kStep: 1,
  tCount: 1,
};

/** Sizes padded to three dimensions with leading 1s (D, H, W). */
export function asThreeDims(values: readonly number[], fill = 1): [number, number, number] {
  const padded = [...new Array<number>(3 - values.length).fill(fill), ...values];
  return [padded[0]!, padded[1]!, padded[2]!];
}

/**
 * Every phase of a problem: the cartesian product of each dimension's phases, padded to three dimensions.
 * Together the phases cover every output position exactly once.
 */
export function planPhases(geometry: ConvGeometry): Phase[] {
  const perDim = geometry.inSpatial.map((inSize, i) =>
    dimPhases(
      geometry.op,
      inSize,
      geometry.outSpatial[i]!,
      geometry.kernel[i]!,
      geometry.stride[i]!,
      geometry.dilation[i]!,
      geometry.padBegin[i]!,
    ),
  );
  while (perDim.length < 3) perDim.unshift([UNIT_DIM]);
  const phases: Phase[] = [];
  for (const d of perDim[0]!) {
    for (const h of perDim[1]!) {
      for (const w of perDim[2]!) phases.push([d, h, w]);
    }
  }
  return phases;
}

/** Largest absolute input position a phase computes (bounds for 32-bit arithmetic). */
function largestPosition(phase: Phase): number {
  let largest = 0;
  for (const dim of phase) {
    const reach = Math.abs(dim.base) + Math.abs(dim.jStep) * dim.jCount + Math.abs(dim.tStep) * dim.tCount;
    const output = dim.oStart + dim.oStep * dim.jCount;
    largest = Math.max(largest, reach, output);
  }
  return largest;
}

/** The kernel a problem runs with: the tiled one pays off once there are enough rows and depth to tile. */
export function chooseKernel(
  geometry: ConvGeometry,
  phases: readonly Phase[],
  choice: KernelChoice,
): 'direct' | 'tiled' {
  if (choice !== 'auto') return choice;
  const coutPerGroup = geometry.outChannels / geometry.groups;
  const cinPerGroup = geometry.inChannels / geometry.groups;
  const taps = Math.max(...phases.map((phase) => phase[0].tCount * phase[1].tCount * phase[2].tCount));
  return coutPerGroup >= 16 && cinPerGroup * taps >= 16 ? 'tiled' : 'direct';
}

/** One dispatch: its parameter words and its workgroup counts. */
export interface Dispatch {
  readonly params: Uint32Array;
  readonly workgroups: [number, number, number];
}

/** A part of a problem that runs on its own buffers: batch items [n0, n1). */
export interface Chunk {
  readonly n0: number;
  readonly n1: number;
  readonly dispatches: Dispatch[];
}

export interface Plan {
  readonly problem: ConvProblem;
  readonly geometry: ConvGeometry;
  readonly kernel: 'direct' | 'tiled';
  readonly chunks: Chunk[];
  /** Elements of one batch item of x and of y. */
  readonly xItem: number;
  readonly yItem: number;
  readonly bytes: number;
}

function phaseParams(geometry: ConvGeometry, phase: Phase, batch: number): Uint32Array {
  const words = new Uint32Array(PARAMS_BYTES / 4);
  const signed = new Int32Array(words.buffer);
  const inSize = asThreeDims(geometry.inSpatial);
  const outSize = asThreeDims(geometry.outSpatial);
  const kSize = asThreeDims(geometry.kernel);
  const put = (at: number, values: readonly number[]): void => values.forEach((v, i) => (signed[at + i] = v));
  put(PARAM.inSize, inSize);
  put(PARAM.outSize, outSize);
  put(PARAM.kSize, kSize);
  const fields = [
    'jCount',
    'oStart',
    'oStep',
    'base',
    'jStep',
    'tStep',
    'kStart',
    'kStep',
    'tCount',
  ] as const;
  for (const field of fields)
    put(
      PARAM[field],
      phase.map((dim) => dim[field]),
    );
  const cinPerGroup = geometry.inChannels / geometry.groups;
  const coutPerGroup = geometry.outChannels / geometry.groups;
  const taps = kSize[0] * kSize[1] * kSize[2];
  words.set([batch, cinPerGroup, coutPerGroup, geometry.groups], PARAM.channels);
  const weightStrides = geometry.op === 'conv' ? [cinPerGroup * taps, taps] : [taps, coutPerGroup * taps];
  words.set([...weightStrides, cinPerGroup * coutPerGroup * taps], PARAM.weight);
  const tapVolume = phase[0].tCount * phase[1].tCount * phase[2].tCount;
  const jVolume = phase[0].jCount * phase[1].jCount * phase[2].jCount;
  words.set([tapVolume, jVolume], PARAM.volumes);
  return words;
}

/** The dispatches of one phase over `batch` items, split to stay within maxComputeWorkgroupsPerDimension. */
function phaseDispatches(
  geometry: ConvGeometry,
  phase: Phase,
  batch: number,
  kernel: 'direct' | 'tiled',
  caps: DeviceCaps,
  hasBias: boolean,
): Outcome<Dispatch[]> {
  const template = phaseParams(geometry, phase, batch);
  template[PARAM.weight + 3] = hasBias ? 1 : 0;
  const jVolume = template[PARAM.volumes + 1]!;
  const tapVolume = template[PARAM.volumes]!;
  const cinPerGroup = geometry.inChannels / geometry.groups;
  const coutPerGroup = geometry.outChannels / geometry.groups;
  const maxPerDim = caps.maxComputeWorkgroupsPerDimension;
  const dispatches: Dispatch[] = [];
  if (kernel === 'direct') {
    const outputs = batch * geometry.groups * coutPerGroup * jVolume;
    const workgroups = Math.ceil(outputs / 64);
    for (let first = 0; first < workgroups; first += maxPerDim * maxPerDim) {
      const count = Math.min(workgroups - first, maxPerDim * maxPerDim);
      const x = Math.min(count, maxPerDim);
      const params = template.slice();
      params.set([outputs, first], PARAM.dispatch);
      dispatches.push({ params, workgroups: [x, Math.ceil(count / x), 1] });
    }
    return ok(dispatches);
  }
  const columns = batch * jVolume;
  const depth = cinPerGroup * tapVolume;
  const columnTiles = Math.ceil(columns / 64);
  const rowTiles = Math.ceil(coutPerGroup / 64);
  if (rowTiles > maxPerDim) {
    return fail(
      `This GPU allows ${maxPerDim} workgroups per dimension; ${coutPerGroup} output channels per group need ` +
        `${rowTiles}. Use the CPU engine.`,
    );
  }
  for (let firstColumn = 0; firstColumn < columnTiles; firstColumn += maxPerDim) {
    for (let firstGroup = 0; firstGroup < geometry.groups; firstGroup += maxPerDim) {
      const params = template.slice();
      params.set([columns, depth, firstColumn, firstGroup], PARAM.dispatch);
      dispatches.push({
        params,
        workgroups: [
          Math.min(maxPerDim, columnTiles - firstColumn),
          rowTiles,
          Math.min(maxPerDim, geometry.groups - firstGroup),
        ],
      });
    }
  }
  return ok(dispatches);
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MB`;
}

/** Whether a device can run the tiled kernel (256 invocations of 16×16, 8 KiB of workgroup memory). */
function tiledFits(caps: DeviceCaps): boolean {
  return (
    caps.maxComputeInvocationsPerWorkgroup >= 256 &&
    caps.maxComputeWorkgroupSizeX >= 16 &&
    caps.maxComputeWorkgroupSizeY >= 16 &&
    caps.maxComputeWorkgroupStorageSize >= 8192
  );
}

/**
 * Plans one valid problem for a device: kernel, batch chunks within the storage binding limit, dispatches
 * within the workgroup limit. Refuses (with what to do instead) what the device cannot hold.
 */
export function planProblem(
  problem: ConvProblem,
  geometry: ConvGeometry,
  caps: DeviceCaps,
  choice: KernelChoice,
): Outcome<Plan> {
  const phases = planPhases(geometry);
  let kernel = chooseKernel(geometry, phases, choice);
  if (kernel === 'tiled' && !tiledFits(caps)) {
    if (choice === 'tiled')
      return fail('This GPU cannot run the tiled kernel (workgroups of 16×16 invocations).');
    kernel = 'direct';
  }
  const binding = Math.min(caps.maxStorageBufferBindingSize, caps.maxBufferSize);
  const xItem = geometry.inChannels * geometry.inSpatial.reduce((a, b) => a * b, 1);
  const yItem = geometry.outChannels * geometry.outSpatial.reduce((a, b) => a * b, 1);
  const wBytes = problem.w.length * 4;
  if (wBytes > binding) {
    return fail(
      `The weight (${megabytes(wBytes)}) is larger than this GPU's largest storage buffer ` +
        `(${megabytes(binding)}); use the CPU engine.`,
    );
  }
  const itemBytes = Math.max(xItem, yItem) * 4;
  if (itemBytes > binding) {
    return fail(
      `One batch item's ${xItem >= yItem ? 'input' : 'output'} (${megabytes(itemBytes)}) is larger than this ` +
        `GPU's largest storage buffer (${megabytes(binding)}); use the CPU engine.`,
    );
  }
  if (
    Math.max(xItem, yItem) * geometry.batch > INDEX_LIMIT ||
    phases.some((phase) => largestPosition(phase) > INDEX_LIMIT)
  ) {
    return fail('This problem is too large for the GPU kernels’ 32-bit indexing; use the CPU engine.');
  }
  const perChunk = Math.max(1, Math.floor(binding / Math.max(itemBytes, 4)));
  const chunks: Chunk[] = [];
  for (let n0 = 0; n0 < geometry.batch; n0 += perChunk) {
    const n1 = Math.min(geometry.batch, n0 + perChunk);
    const dispatches: Dispatch[] = [];
    for (const phase of phases) {
      const planned = phaseDispatches(geometry, phase, n1 - n0, kernel, caps, problem.b !== null);
      if (!planned.ok) return planned;
      dispatches.push(...planned.value);
    }
    chunks.push({ n0, n1, dispatches });
  }
  const bytes = 4 * (geometry.batch * (xItem + 2 * yItem) + problem.w.length + geometry.outChannels);
  return ok({ problem, geometry, kernel, chunks, xItem, yItem, bytes });
}

// ---------------------------------------------------------------------------------------------------------
// The engine: device, pipelines, buffers.
// ---------------------------------------------------------------------------------------------------------

interface DeviceState {
  readonly device: GPUDevice;
  readonly caps: DeviceCaps;
  readonly layout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  readonly pipelines: Map<string, Promise<GPUComputePipeline>>;
  /** Set once the device is lost (by the engine's dispose or by the system). */
  lost: string | null;
}

const CAP_NAMES: readonly (keyof DeviceCaps)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupStorageSize',
];

function now(): number {
  const clock = (globalThis as { performance?: { now(): number } }).performance;
  return clock ? clock.now() : Date.now();
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  if (!info) return 'unknown adapter';
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const named = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
  return `${named || 'unknown adapter'}${fallback ? ', software' : ''}`;
}

/** Resolves after `milliseconds` (setTimeout exists wherever WebGPU does: browsers, webviews, Node). */
function delay(milliseconds: number): Promise<void> {
  const timers = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };
  return new Promise((resolve) => timers.setTimeout(resolve, milliseconds));
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message);
  return String(error);
}

class DeviceLostError extends Error {}

/**
 * Opens the WebGPU engine on an adapter of `gpu`, or says why it cannot (no adapter, no device), so the
 * caller can fall back to the CPU engine and tell the user.
 */
export async function openWebGpuEngine(
  gpu: GPU,
  options: WebGpuEngineOptions = {},
): Promise<Outcome<WebGpuEngine>> {
  const engine = new WebGpuConvEngine(gpu, options);
  const opened = await engine.device();
  if (!opened.ok) return opened;
  return ok(engine);
}

/**
 * The WebGPU engine on an adapter of `gpu`. Rejects with a plain message (no adapter, no device) when WebGPU
 * cannot run here; use `openWebGpuEngine` to get that as an Outcome instead.
 */
export async function createWebGpuEngine(gpu: GPU, options: WebGpuEngineOptions = {}): Promise<WebGpuEngine> {
  const opened = await openWebGpuEngine(gpu, options);
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
}

class WebGpuConvEngine implements WebGpuEngine {
  name = 'WebGPU';
  adapterDescription = '';
  private state: DeviceState | null = null;
  private opening: Promise<Outcome<DeviceState>> | null = null;
  private disposed = false;
  private readonly limits: EngineLimits;
  private readonly choice: KernelChoice;

  constructor(
    private readonly gpu: GPU,
    private readonly options: WebGpuEngineOptions,
  ) {
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.choice = options.kernel ?? 'auto';
  }

  /** The current device, or a new one when there is none or the last one was lost. */
  device(): Promise<Outcome<DeviceState>> {
    if (this.disposed) return Promise.resolve(fail('The WebGPU engine was disposed.'));
    if (this.state && this.state.lost === null) return Promise.resolve(ok(this.state));
    this.opening ??= this.openDevice().finally(() => (this.opening = null));
    return this.opening;
  }

  private async openDevice(): Promise<Outcome<DeviceState>> {
    let adapter: GPUAdapter | null;
    try {
      adapter = await this.gpu.requestAdapter(
        this.options.powerPreference ? { powerPreference: this.options.powerPreference } : undefined,
      );
    } catch (error) {
      return fail(`WebGPU could not look for an adapter (${errorText(error)}); use the CPU engine.`);
    }
    if (!adapter) return fail('WebGPU has no adapter here (no usable GPU or driver); use the CPU engine.');
    // Ask for everything the adapter offers; the caps in the options only lower what the engine plans with.
    const requiredLimits: Record<string, number> = {};
    for (const name of CAP_NAMES) requiredLimits[name] = adapter.limits[name];
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ label: 'conv-lens', requiredLimits });
    } catch (error) {
      return fail(`WebGPU could not open a device on ${describeAdapter(adapter)} (${errorText(error)}).`);
    }
    const caps = Object.fromEntries(
      CAP_NAMES.map((name) => [
        name,
        Math.min(device.limits[name], this.options.deviceLimits?.[name] ?? Infinity),
      ]),
    ) as unknown as DeviceCaps;
    const entries: GPUBindGroupLayoutEntry[] = [0, 1, 2, 3].map((binding) => ({
      binding,
      visibility: STAGE_COMPUTE,
      buffer: { type: binding === 3 ? 'storage' : 'read-only-storage' },
    }));
    entries.push({
      binding: 4,
      visibility: STAGE_COMPUTE,
      buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: PARAMS_BYTES },
    });
    const layout = device.createBindGroupLayout({ label: 'conv', entries });
    const state: DeviceState = {
      device,
      caps,
      layout,
      pipelineLayout: device.createPipelineLayout({ label: 'conv', bindGroupLayouts: [layout] }),
      pipelines: new Map(),
      lost: null,
    };
    void device.lost.then((info) => {
      state.lost = info.message || info.reason || 'lost';
    });
    this.state = state;
    this.adapterDescription = describeAdapter(adapter);
    this.name = `WebGPU (${this.adapterDescription})`;
    return ok(state);
  }

  private pipeline(state: DeviceState, kernel: WgslKernel): Promise<GPUComputePipeline> {
    let pipeline = state.pipelines.get(kernel.key);
    if (!pipeline) {
      const module = state.device.createShaderModule({ label: kernel.key, code: kernel.code });
      pipeline = state.device.createComputePipelineAsync({
        label: kernel.key,
        layout: state.pipelineLayout,
        compute: { module, entryPoint: 'main' },
      });
      // A failed compilation must not stay cached: the next run tries again (and reports the error again).
      pipeline.catch(() => state.pipelines.delete(kernel.key));
      state.pipelines.set(kernel.key, pipeline);
    }
    return pipeline;
  }

  async run(problem: ConvProblem): Promise<Outcome<ConvResult>> {
    const [result] = await this.runBatch([problem]);
    return result!;
  }

  async runBatch(problems: readonly ConvProblem[]): Promise<Outcome<ConvResult>[]> {
    const results: Outcome<ConvResult>[] = new Array<Outcome<ConvResult>>(problems.length);
    const pending: Array<{ index: number; geometry: ConvGeometry }> = [];
    problems.forEach((problem, index) => {
      const checked = validateProblem(problem, this.limits, true);
      if (!checked.ok) {
        results[index] = checked;
      } else if (checked.value.yShape.includes(0)) {
        // PyTorch answers an empty output with an empty tensor; there is nothing to compute.
        results[index] = ok({
          y: new Float32Array(0),
          yShape: checked.value.yShape,
          engine: this.name,
          milliseconds: 0,
        });
      } else {
        pending.push({ index, geometry: checked.value });
      }
    });
    // Problems go into submissions of bounded size, in order. A submission that meets a lost device is run
    // again, with everything after it, on a new device (once); an answered problem is never run twice.
    let remaining = pending;
    for (let attempt = 0; remaining.length > 0; attempt++) {
      const opened = await this.device();
      if (!opened.ok) {
        for (const { index } of remaining) results[index] = opened;
        break;
      }
      const state = opened.value;
      const plans: Array<{ index: number; plan: Plan }> = [];
      for (const { index, geometry } of remaining) {
        const planned = planProblem(problems[index]!, geometry, state.caps, this.choice);
        if (planned.ok) plans.push({ index, plan: planned.value });
        else results[index] = planned;
      }
      const groups: Array<typeof plans> = [];
      let groupBytes = Infinity;
      for (const entry of plans) {
        if (groupBytes + entry.plan.bytes > (this.options.submissionBytes ?? SUBMISSION_BYTES)) {
          groups.push([]);
          groupBytes = 0;
        }
        groups.at(-1)!.push(entry);
        groupBytes += entry.plan.bytes;
      }
      remaining = [];
      for (const [g, group] of groups.entries()) {
        try {
          const answers = await this.submit(
            state,
            group.map((entry) => entry.plan),
          );
          group.forEach((entry, i) => (results[entry.index] = answers[i]!));
        } catch (error) {
          const unanswered = groups.slice(g).flat();
          if (error instanceof DeviceLostError && attempt === 0) {
            // The device went away under this run: device() opens a new one for the rest.
            state.lost ??= error.message;
            remaining = unanswered.map(({ index }) => pending.find((p) => p.index === index)!);
            break;
          }
          const message =
            error instanceof DeviceLostError
              ? `The GPU device was lost twice in a row (${error.message}); use the CPU engine.`
              : `WebGPU failed: ${errorText(error)}`;
          for (const { index } of unanswered) results[index] = fail(message);
          break;
        }
      }
    }
    return results;
  }

  /** Encodes plans into one submission, runs it and reads the outputs back. */
  private async submit(state: DeviceState, plans: readonly Plan[]): Promise<Outcome<ConvResult>[]> {
    const { device } = state;
    const started = now();
    if (state.lost !== null) throw new DeviceLostError(state.lost);
    const pipelines = new Map<'direct' | 'tiled', GPUComputePipeline>();
    for (const kind of new Set(plans.map((plan) => plan.kernel))) {
      try {
        pipelines.set(kind, await this.pipeline(state, kind === 'direct' ? DIRECT_KERNEL : TILED_KERNEL));
      } catch (error) {
        if (state.lost !== null) throw new DeviceLostError(state.lost);
        throw new Error(`the ${kind} kernel did not compile: ${errorText(error)}`, { cause: error });
      }
    }

    const buffers: GPUBuffer[] = [];
    const createBuffer = (label: string, bytes: number, usage: number): GPUBuffer => {
      // WebGPU refuses empty bindings; tiny tensors get at least 16 bytes.
      const buffer = device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 4) * 4), usage });
      buffers.push(buffer);
      return buffer;
    };
    const upload = (label: string, data: Float32Array): GPUBuffer => {
      const buffer = createBuffer(label, data.byteLength, USAGE_STORAGE | USAGE_COPY_DST);
      if (data.length > 0) device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return buffer;
    };

    // Every error of the encoding and submission is caught by these scopes (popped even when encoding
    // throws, so that the device's scope stack stays balanced).
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let validation: Promise<GPUError | null>;
    let memory: Promise<GPUError | null>;
    const readbacks: Array<{ plan: number; n0: number; buffer: GPUBuffer; y: GPUBuffer; elements: number }> =
      [];
    try {
      this.encode(state, plans, pipelines, createBuffer, upload, readbacks);
    } catch (error) {
      for (const buffer of buffers) buffer.destroy();
      throw error;
    } finally {
      // A pop can only fail when the device is gone; that is then reported by the read-back.
      validation = device.popErrorScope().catch(() => null);
      memory = device.popErrorScope().catch(() => null);
    }
    const outputs = plans.map((plan) => new Float32Array(plan.geometry.yShape.reduce((a, b) => a * b, 1)));
    try {
      const [validationError, memoryError] = await Promise.all([validation, memory]);
      if (memoryError) {
        throw new Error(`the GPU ran out of memory (${memoryError.message}); use the CPU engine.`);
      }
      if (validationError) throw new Error(`the GPU rejected the work: ${validationError.message}`);
      const mapped = await Promise.allSettled(
        readbacks.map((readback) => readback.buffer.mapAsync(MAP_MODE_READ)),
      );
      const refused = mapped.find((outcome) => outcome.status === 'rejected');
      if (refused) {
        // Reading back fails when the device is lost; `device.lost` may settle a moment later.
        await Promise.race([device.lost, delay(100)]);
        if (state.lost !== null) throw new DeviceLostError(state.lost);
        throw new Error(`reading the results back failed: ${errorText(refused.reason)}`);
      }
      for (const readback of readbacks) {
        const plan = plans[readback.plan]!;
        outputs[readback.plan]!.set(
          new Float32Array(readback.buffer.getMappedRange(0, readback.elements * 4), 0, readback.elements),
          readback.n0 * plan.yItem,
        );
        readback.buffer.unmap();
      }
    } finally {
      for (const buffer of buffers) buffer.destroy();
    }
    if (state.lost !== null) throw new DeviceLostError(state.lost);
    const share = (now() - started) / plans.length;
    return plans.map((plan, i) =>
      ok({ y: outputs[i]!, yShape: plan.geometry.yShape, engine: this.name, milliseconds: share }),
    );
  }

  /** Records the dispatches and read-back copies of plans and submits them. */
  private encode(
    state: DeviceState,
    plans: readonly Plan[],
    pipelines: ReadonlyMap<'direct' | 'tiled', GPUComputePipeline>,
    createBuffer: (label: string, bytes: number, usage: number) => GPUBuffer,
    upload: (label: string, data: Float32Array) => GPUBuffer,
    readbacks: Array<{ plan: number; n0: number; buffer: GPUBuffer; y: GPUBuffer; elements: number }>,
  ): void {
    const { device } = state;
    const dispatchCount = plans.reduce(
      (sum, plan) => sum + plan.chunks.reduce((inner, chunk) => inner + chunk.dispatches.length, 0),
      0,
    );
    const uniforms = createBuffer('params', dispatchCount * PARAMS_BYTES, USAGE_UNIFORM | USAGE_COPY_DST);
    const paramWords = new Uint32Array((dispatchCount * PARAMS_BYTES) / 4);
    const encoder = device.createCommandEncoder({ label: 'conv' });
    const pass = encoder.beginComputePass({ label: 'conv' });
    let slot = 0;
    plans.forEach((plan, planIndex) => {
      const { problem } = plan;
      const w = upload('w', problem.w);
      const b = problem.b ? upload('b', problem.b) : createBuffer('no bias', 16, USAGE_STORAGE);
      pass.setPipeline(pipelines.get(plan.kernel)!);
      for (const chunk of plan.chunks) {
        const x = upload('x', problem.x.subarray(chunk.n0 * plan.xItem, chunk.n1 * plan.xItem));
        const elements = (chunk.n1 - chunk.n0) * plan.yItem;
        const y = createBuffer('y', elements * 4, USAGE_STORAGE | USAGE_COPY_SRC);
        const bindGroup = device.createBindGroup({
          label: 'conv',
          layout: state.layout,
          entries: [
            { binding: 0, resource: { buffer: x } },
            { binding: 1, resource: { buffer: w } },
            { binding: 2, resource: { buffer: b } },
            { binding: 3, resource: { buffer: y } },
            { binding: 4, resource: { buffer: uniforms, size: PARAMS_BYTES } },
          ],
        });
        for (const dispatch of chunk.dispatches) {
          paramWords.set(dispatch.params, (slot * PARAMS_BYTES) / 4);
          pass.setBindGroup(0, bindGroup, [slot * PARAMS_BYTES]);
          pass.dispatchWorkgroups(...dispatch.workgroups);
          slot++;
        }
        readbacks.push({
          plan: planIndex,
          n0: chunk.n0,
          y,
          elements,
          buffer: createBuffer('readback', elements * 4, USAGE_MAP_READ | USAGE_COPY_DST),
        });
      }
    });
    pass.end();
    for (const readback of readbacks) {
      encoder.copyBufferToBuffer(readback.y, 0, readback.buffer, 0, Math.max(16, readback.elements * 4));
    }
    device.queue.writeBuffer(uniforms, 0, paramWords);
    device.queue.submit([encoder.finish()]);
  }

  dispose(): void {
    this.disposed = true;
    const state = this.state;
    this.state = null;
    if (state) {
      state.lost ??= 'disposed';
      state.device.destroy();
    }
  }
}
