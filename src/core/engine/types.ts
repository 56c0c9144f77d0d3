/**
 * The compute engine's contract: one convolution or transposed convolution on real numbers. Both
 * implementations (CPU and WebGPU) take a ConvProblem and return a ConvResult; the output shape always comes
 * from the arithmetic core (`problemShape`), never from an engine.
 */
import type { Outcome } from '../arithmetic/types';

export type ConvOp = 'conv' | 'conv_transpose';

export interface ConvProblem {
  readonly op: ConvOp;
  /** Input, row-major, shape [N, C_in, ...spatial] (1 to 3 spatial dimensions). */
  readonly x: Float32Array;
  readonly xShape: readonly number[];
  /** Weight in PyTorch's layout: conv [C_out, C_in/groups, ...k]; transposed [C_in, C_out/groups, ...k]. */
  readonly w: Float32Array;
  readonly wShape: readonly number[];
  /** Bias [C_out], or null. */
  readonly b: Float32Array | null;
  readonly stride: readonly number[];
  /** Padding before each spatial dimension (for transposed convs: the crop at the start). */
  readonly padBegin: readonly number[];
  /** Padding after each spatial dimension (asymmetric padding allowed). */
  readonly padEnd: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
  /** Transposed convs only: extra size at the end of each spatial dimension. */
  readonly outputPadding: readonly number[];
}

export interface ConvResult {
  readonly y: Float32Array;
  readonly yShape: number[];
  /** Which engine ran, in words for the UI ("CPU (2 workers)", "WebGPU (NVIDIA H100)"). */
  readonly engine: string;
  readonly milliseconds: number;
}

/** Work limits, checked before anything is allocated. */
export interface EngineLimits {
  /** Largest number of elements of any one tensor (input, weight or output). */
  readonly maxElements: number;
  /** Largest number of multiply-accumulates of one problem. */
  readonly maxMacs: number;
}

export const DEFAULT_LIMITS: EngineLimits = { maxElements: 64 * 1024 * 1024, maxMacs: 20e9 };

export interface ConvEngine {
  readonly name: string;
  run(problem: ConvProblem): Promise<Outcome<ConvResult>>;
  dispose?(): void;
}
