/**
 * `convlens compute --engine cpu|webgpu`: runs convolutions on real numbers. Reads JSON Lines on stdin, one
 * problem per line in the format of ../shared/oracle/torch_numeric.json without `y` and `y_shape`
 * ({"op": "conv2d", "stride": [...], "padding": [...], "dilation": [...], "groups": 1, "output_padding": null,
 * "x_shape": [...], "x": [...], "w_shape": [...], "w": [...], "b": null}), and writes one line per problem,
 * in order: {"y_shape": [...], "y": [...]} or {"error": "..."}. A bad line never stops the stream.
 * `--engine webgpu` falls back to the CPU engine, saying so on stderr, where WebGPU cannot run (no driver,
 * no adapter) or cannot run one problem; the answers are the same either way.
 */
import * as readline from 'node:readline';
import { convolveCpu, createCpuEngine } from '../core/engine/cpu';
import { problemFromGoldenCase } from '../core/engine/shape';
import { type ConvEngine, type ConvResult, DEFAULT_LIMITS, type EngineLimits } from '../core/engine/types';
import { openWebGpuEngine } from '../core/engine/webgpu';
import type { Outcome } from '../core/arithmetic/types';
import { fail, ok } from '../core/arithmetic/types';
import { parseOptions, reportUsage, UsageError } from './options';
import { loadNodeGpu } from './webgpuNode';

export type EngineName = 'cpu' | 'webgpu';

const ENGINES: readonly EngineName[] = ['cpu', 'webgpu'];

/**
 * The WebGPU engine in Node: Dawn through the `webgpu` package (src/cli/webgpuNode.ts finds a driver, or says
 * why there is none), then the engine of src/core/engine/webgpu.ts on its adapter.
 */
async function loadWebGpuEngine(limits: EngineLimits): Promise<Outcome<ConvEngine>> {
  let reason = 'WebGPU is not available';
  const gpu = await loadNodeGpu((why) => (reason = why));
  if (!gpu) return fail(reason);
  return openWebGpuEngine(gpu, { limits });
}

export async function loadEngine(name: EngineName, limits: EngineLimits): Promise<Outcome<ConvEngine>> {
  return name === 'cpu' ? ok(createCpuEngine({ limits })) : loadWebGpuEngine(limits);
}

function limitOption(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive number (e.g. 2e10), not '${text}'.`);
  }
  return value;
}

export interface LineOptions {
  /** Run a problem the engine fails on (past a GPU's limits, a lost device) on the CPU engine instead. */
  readonly fallbackToCpu?: boolean;
  /** Told when that happens, in words. */
  readonly note?: (message: string) => void;
}

/**
 * Answers one line: the output, or an error in the user's words. Never throws. With `fallbackToCpu`, a valid
 * problem the engine cannot run is computed by the CPU engine and `note` says so.
 */
export async function computeLine(
  line: string,
  engine: ConvEngine,
  limits: EngineLimits,
  options: LineOptions = {},
): Promise<string> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    return JSON.stringify({ error: `This line is not valid JSON: ${(error as Error).message}` });
  }
  const problem = problemFromGoldenCase(raw, limits);
  if (!problem.ok) return JSON.stringify({ error: problem.error });
  let result: Outcome<ConvResult>;
  try {
    result = await engine.run(problem.value);
  } catch (error) {
    result = fail(`The ${engine.name} engine failed: ${(error as Error).message}`);
  }
  if (!result.ok && options.fallbackToCpu) {
    const cpu = convolveCpu(problem.value, limits);
    // A problem both engines refuse is the problem's fault: report it as it is.
    if (cpu.ok) options.note?.(`${result.error} Computed on the CPU instead.`);
    result = cpu;
  }
  if (!result.ok) return JSON.stringify({ error: result.error });
  return JSON.stringify({ y_shape: result.value.yShape, y: Array.from(result.value.y) });
}

export async function runCompute(args: readonly string[]): Promise<number> {
  let engineName: EngineName;
  let limits: EngineLimits;
  try {
    const options = parseOptions(args, ['engine', 'max-macs', 'max-elements'], []);
    if (options.positional.length > 0) {
      throw new UsageError(
        `unexpected '${options.positional[0]}': the problems come on stdin, one per line.`,
      );
    }
    const chosen = options.values.get('engine') ?? 'cpu';
    if (!(ENGINES as readonly string[]).includes(chosen)) {
      throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}, not '${chosen}'.`);
    }
    engineName = chosen as EngineName;
    limits = {
      maxMacs: limitOption(options.values.get('max-macs'), 'max-macs', DEFAULT_LIMITS.maxMacs),
      maxElements: limitOption(
        options.values.get('max-elements'),
        'max-elements',
        DEFAULT_LIMITS.maxElements,
      ),
    };
  } catch (error) {
    return reportUsage('compute', error);
  }
  const loaded = await loadEngine(engineName, limits);
  let engine: ConvEngine;
  let fallbackToCpu = engineName !== 'cpu';
  if (loaded.ok) {
    engine = loaded.value;
  } else {
    fallbackToCpu = false;
    // The answers are the same on either engine, so a missing GPU slows the run down but does not stop it.
    process.stderr.write(`convlens compute: ${loaded.error} Using the CPU engine instead.\n`);
    engine = createCpuEngine({ limits });
  }
  try {
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    let lineNumber = 0;
    const note = (message: string) =>
      process.stderr.write(`convlens compute: line ${lineNumber}: ${message}\n`);
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const answer = await computeLine(line, engine, limits, { fallbackToCpu, note });
      // Respect back-pressure: outputs can be large, and a slow reader must not make us buffer them all.
      if (!process.stdout.write(answer + '\n')) {
        await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
      }
    }
  } finally {
    engine.dispose?.();
  }
  return 0;
}
