/**
 * Which engine runs the preview: WebGPU on the page when navigator.gpu yields an adapter, the CPU engine in a
 * pool of Web Workers otherwise (or whenever convLens.preview.engine says `cpu`). The worker's script is fetched from
 * the extension's bundle and started from a blob: URL, because a webview cannot start a worker from its
 * resource origin directly.
 */
import type { Outcome } from '../../core/arithmetic/types';
import { fail, ok } from '../../core/arithmetic/types';
import type { ConvProblem, ConvResult } from '../../core/engine/types';
import { type WebGpuEngine, openWebGpuEngine } from '../../core/engine/webgpu';
import { splitWork, type WorkSlice } from '../../core/engine/cpu';
import { validateProblem } from '../../core/engine/shape';
import {
  type EngineKind,
  type EngineSetting,
  isWorkerReply,
  type PreviewSlice,
  type WorkerReply,
  type WorkerRequest,
} from '../../protocol/preview';
import {
  assembleSlices,
  POOL_MIN_MACS,
  type PoolOptions,
  poolSize,
  type SlicePart,
  workersFor,
} from './pool';
import type { RunProblem } from './stack';

export interface PreviewEngine {
  readonly kind: EngineKind;
  /** In words, for the badge. */
  readonly label: string;
  readonly run: RunProblem;
}

/**
 * The pool's settings from the page's config (`cpuWorkers`, `cpuPoolMinMacs` in the
 * `conv-lens-preview-config` JSON), so a test harness can force several workers on a machine with few cores.
 * Anything that is not a whole number in range is ignored.
 */
export function poolOptionsFromPage(): PoolOptions {
  const element =
    typeof document === 'undefined' ? null : document.getElementById('conv-lens-preview-config');
  let config: unknown;
  try {
    config = JSON.parse(element?.textContent ?? '{}');
  } catch {
    return {};
  }
  if (typeof config !== 'object' || config === null) return {};
  const { cpuWorkers, cpuPoolMinMacs } = config as Record<string, unknown>;
  const whole = (value: unknown, max: number): value is number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
  return {
    ...(whole(cpuWorkers, 16) && cpuWorkers >= 1 ? { workers: cpuWorkers } : {}),
    ...(whole(cpuPoolMinMacs, Number.MAX_SAFE_INTEGER) ? { minMacs: cpuPoolMinMacs } : {}),
  };
}

type Settle = (reply: WorkerReply) => void;

/**
 * The CPU engine in up to `poolSize` workers started from `workerUrl`. A problem of at least `minMacs`
 * multiply-accumulates is cut by splitWork into one slice per worker; each worker computes its slice and the
 * page puts the output together (pool.ts), bit for bit what one worker computes. Smaller problems, and those
 * splitWork cannot cut (fewer than 8 output channels on one sample), run on the first worker alone. One run
 * at a time is all the panel needs.
 */
export class WorkerEngine implements PreviewEngine {
  readonly kind = 'cpu';
  label = 'CPU (worker)';
  /** Workers for large problems. */
  readonly size: number;
  private readonly minMacs: number;
  private source: Promise<string> | null = null;
  private readonly workers: (Promise<Worker> | undefined)[] = [];
  private nextId = 1;
  /** Requests in flight: how to settle each, and which worker has it. */
  private readonly pending = new Map<number, { settle: Settle; worker: number }>();

  constructor(
    private readonly workerUrl: string,
    options: PoolOptions = {},
  ) {
    this.size = poolSize(globalThis.navigator?.hardwareConcurrency, options.workers);
    this.minMacs = options.minMacs ?? POOL_MIN_MACS;
  }

  private async script(): Promise<string> {
    this.source ??= (async () => {
      const response = await fetch(this.workerUrl);
      if (!response.ok) throw new Error(`the worker script could not be loaded (${response.status})`);
      return URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
    })();
    // A failed fetch is tried again on the next run rather than remembered.
    this.source.catch(() => (this.source = null));
    return this.source;
  }

  private start(index: number): Promise<Worker> {
    const started = this.workers[index];
    if (started) return started;
    const starting = this.script().then((blobUrl) => {
      const worker = new Worker(blobUrl);
      worker.onmessage = (event: MessageEvent<unknown>) => {
        if (!isWorkerReply(event.data)) return;
        const entry = this.pending.get(event.data.id);
        if (!entry || entry.worker !== index) return;
        this.pending.delete(event.data.id);
        entry.settle(event.data);
      };
      worker.onerror = (event) => {
        // This worker's requests fail; the next run starts it afresh.
        this.workers[index] = undefined;
        worker.terminate();
        for (const [id, entry] of this.pending) {
          if (entry.worker !== index) continue;
          this.pending.delete(id);
          entry.settle({ type: 'failed', id, error: event.message || 'the CPU worker stopped' });
        }
      };
      return worker;
    });
    starting.catch(() => (this.workers[index] = undefined));
    this.workers[index] = starting;
    return starting;
  }

  /** Sends one request to worker `index` and waits for its answer. */
  private async request(index: number, problem: ConvProblem, slice?: PreviewSlice): Promise<WorkerReply> {
    let worker: Worker;
    try {
      worker = await this.start(index);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { type: 'failed', id: 0, error: `The CPU worker could not start: ${reason}.` };
    }
    const id = this.nextId++;
    const message: WorkerRequest = {
      type: 'convolve',
      id,
      op: problem.op,
      x: problem.x,
      xShape: problem.xShape,
      w: problem.w,
      wShape: problem.wShape,
      stride: problem.stride,
      padBegin: problem.padBegin,
      padEnd: problem.padEnd,
      dilation: problem.dilation,
      outputPadding: problem.outputPadding,
      ...(slice ? { slice } : {}),
    };
    return new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, { settle: resolve, worker: index });
      // The input is copied, not moved: the page keeps it for the hover readout (and every worker needs it).
      worker.postMessage(message);
    });
  }

  /** The slices for `problem`: one (the whole output) unless it is large enough and splitWork can cut it. */
  private plan(problem: ConvProblem): WorkSlice[] | null {
    if (this.size < 2) return null;
    // The worker runs without bias and with one group; the plan must see the same problem.
    const geometry = validateProblem({ ...problem, b: null, groups: 1 }, undefined, true);
    // An invalid problem goes to one worker, which answers with the engine's own words.
    if (!geometry.ok) return null;
    const slices = splitWork(geometry.value, workersFor(geometry.value.macs, this.size, this.minMacs));
    return slices.length > 1 ? slices : null;
  }

  run = async (problem: ConvProblem): Promise<Outcome<ConvResult>> => {
    const started = performance.now();
    const slices = this.plan(problem);
    if (!slices) {
      const reply = await this.request(0, problem);
      if (reply.type === 'failed') return fail(reply.error);
      this.label = `${reply.engine} in a worker`;
      return ok({
        y: reply.y,
        yShape: [...reply.yShape],
        engine: this.label,
        milliseconds: reply.milliseconds,
      });
    }
    const replies = await Promise.all(slices.map((slice, index) => this.request(index, problem, slice)));
    const parts: SlicePart[] = [];
    for (const reply of replies) {
      if (reply.type === 'failed') return fail(reply.error);
      if (!reply.slice) return fail('A CPU worker answered a slice with the whole output.');
      parts.push({ slice: reply.slice, y: reply.y });
    }
    const first = replies[0] as Extract<WorkerReply, { type: 'done' }>;
    // The slices are bit-identical to one worker only if every worker summed at the same precision.
    if (replies.some((reply) => reply.type === 'done' && reply.engine !== first.engine))
      return fail('The CPU workers ran different kernels, so their slices would not match; run again.');
    const y = assembleSlices(first.yShape, parts);
    if (!y.ok) return y;
    this.label = `${first.engine} in ${slices.length} workers`;
    return ok({
      y: y.value,
      yShape: [...first.yShape],
      engine: this.label,
      milliseconds: performance.now() - started,
    });
  };
}

/** The WebGPU engine on this page's adapter. */
class GpuEngine implements PreviewEngine {
  readonly kind = 'webgpu';
  constructor(private readonly engine: WebGpuEngine) {}
  get label(): string {
    return `WebGPU (${this.engine.adapterDescription || 'adapter'})`;
  }
  run = async (problem: ConvProblem): Promise<Outcome<ConvResult>> => {
    const result = await this.engine.run(problem);
    return result.ok ? ok({ ...result.value, engine: this.label }) : result;
  };
}

/** Picks engines as the setting says and remembers the WebGPU one, so its device is opened once. */
export class EngineChooser {
  private gpu: Promise<Outcome<GpuEngine>> | null = null;
  readonly cpu: WorkerEngine;

  constructor(workerUrl: string, pool: PoolOptions = poolOptionsFromPage()) {
    this.cpu = new WorkerEngine(workerUrl, pool);
  }

  /** The WebGPU engine, or why there is none here. */
  webgpu(): Promise<Outcome<GpuEngine>> {
    this.gpu ??= (async () => {
      const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
      if (!gpu) return fail('this webview has no navigator.gpu');
      const opened = await openWebGpuEngine(gpu);
      return opened.ok ? ok(new GpuEngine(opened.value)) : opened;
    })();
    return this.gpu;
  }

  /**
   * The engine for `setting`, with a note when it is not the one asked for (WebGPU forced but unavailable runs
   * on the CPU, and the badge says why).
   */
  async choose(setting: EngineSetting): Promise<{ engine: PreviewEngine; note: string | null }> {
    if (setting === 'cpu') return { engine: this.cpu, note: null };
    const gpu = await this.webgpu();
    if (gpu.ok) return { engine: gpu.value, note: null };
    return {
      engine: this.cpu,
      note: setting === 'webgpu' ? `WebGPU was asked for but is unavailable (${gpu.error})` : null,
    };
  }
}
