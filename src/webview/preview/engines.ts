/**
 * Which engine runs the preview: WebGPU on the page when navigator.gpu yields an adapter, the CPU engine in a
 * Web Worker otherwise (or whenever convLens.preview.engine says `cpu`). The worker's script is fetched from
 * the extension's bundle and started from a blob: URL, because a webview cannot start a worker from its
 * resource origin directly.
 */
import type { Outcome } from '../../core/arithmetic/types';
import { fail, ok } from '../../core/arithmetic/types';
import type { ConvProblem, ConvResult } from '../../core/engine/types';
import { type WebGpuEngine, openWebGpuEngine } from '../../core/engine/webgpu';
import { type EngineKind, type EngineSetting, isWorkerReply, type WorkerReply } from '../../protocol/preview';
import type { RunProblem } from './stack';

export interface PreviewEngine {
  readonly kind: EngineKind;
  /** In words, for the badge. */
  readonly label: string;
  readonly run: RunProblem;
}

/** The CPU engine in a worker started from `workerUrl`; one request at a time is all the panel needs. */
export class WorkerEngine implements PreviewEngine {
  readonly kind = 'cpu';
  label = 'CPU (worker)';
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  constructor(private readonly workerUrl: string) {}

  private async start(): Promise<Worker> {
    if (this.worker) return this.worker;
    const response = await fetch(this.workerUrl);
    if (!response.ok) throw new Error(`the worker script could not be loaded (${response.status})`);
    const source = await response.text();
    const blobUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const worker = new Worker(blobUrl);
    worker.onmessage = (event: MessageEvent<unknown>) => {
      if (!isWorkerReply(event.data)) return;
      const settle = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      settle?.(event.data);
    };
    worker.onerror = (event) => {
      for (const settle of this.pending.values())
        settle({ type: 'failed', id: 0, error: event.message || 'the CPU worker stopped' });
      this.pending.clear();
    };
    this.worker = worker;
    return worker;
  }

  run = async (problem: ConvProblem): Promise<Outcome<ConvResult>> => {
    let worker: Worker;
    try {
      worker = await this.start();
    } catch (error) {
      return fail(
        `The CPU worker could not start: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
    const id = this.nextId++;
    const reply = await new Promise<WorkerReply>((resolve) => {
      this.pending.set(id, resolve);
      // The input is copied, not moved: the page keeps it for the hover readout.
      worker.postMessage({
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
      });
    });
    if (reply.type === 'failed') return fail(reply.error);
    this.label = `${reply.engine} in a worker`;
    return ok({
      y: reply.y,
      yShape: [...reply.yShape],
      engine: this.label,
      milliseconds: reply.milliseconds,
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

  constructor(workerUrl: string) {
    this.cpu = new WorkerEngine(workerUrl);
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
