/**
 * `convlens`: the arithmetic core on the command line, for people (`shape`, `solve`) and for scripts
 * (`eval`, and `--json` everywhere).
 */
import * as readline from 'node:readline';
import { evaluateCase } from '../core/arithmetic/case';
import { runCompute } from './compute';
import { runShape } from './shape';
import { runSolve } from './solve';
import { runTrace } from './trace';

const HELP = `convlens — exact conv, transposed-conv and pooling shapes for PyTorch, Keras, Flax/JAX and ONNX

Usage:
  convlens shape LAYER --input SHAPE [--output-size SIZES] [--framework NAME] [--json]
      What LAYER does to an input: output shape, per-dimension formula, weight shape, parameters, MACs.
      LAYER is written as in your model code; quote it for the shell.
        convlens shape "nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)" --input 1,64,16,16
        convlens shape "layers.Conv2D(32, 3, strides=2, padding='same')" --input 1,128,128,3
        convlens shape "nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1)" --input 1,8,37,37 --output-size 74,74

  convlens solve transposed --input N --target M --kernel K --stride S [--padding P] [--dilation D] [--json]
      Which setting in each framework turns size N into size M with a transposed conv.
        convlens solve transposed --input 37 --target 75 --kernel 3 --stride 2 --padding 1
  convlens solve forward --input N --output M [--json]
      Kernel/stride/padding/dilation settings that map N to M with a conv, simplest first.
  convlens solve upsample --factor F [--json]
      Transposed-conv settings that multiply every input size by F exactly.
  convlens solve same --kernel K --stride S [--dilation D] --input N [--json]
      Each framework's 'same' padding, side by side, with exact per-side pads.

  convlens trace FILE --entry EXPR --input SHAPE [--input SHAPE ...] [--json]
      Builds the model with EXPR (a Python expression in FILE's module scope) and follows the input shapes
      through its forward pass, statically: every layer call with its input and output shape, and every
      shape error, without running Python.
        convlens trace unet_model.py --entry 'UNet(n_channels=3, n_classes=2)' --input 1,3,572,572

  convlens eval
      Reads JSON Lines on stdin, one case per line in the golden-case format
      ({"op": "torch.nn.Conv2d", "args": {...}, "input": [...]}; ONNX: "attrs" and "weight"),
      and writes one line per case, in order: {"output": [...]} or {"error": "..."}.

  convlens compute [--engine cpu|webgpu] [--max-macs N] [--max-elements N]
      Runs convolutions on numbers. Reads JSON Lines on stdin, one problem per line in the format of
      torch_numeric.json without y ({"op": "conv2d" | "conv_transpose1d" | ..., "stride", "padding",
      "dilation", "groups", "output_padding", "x_shape", "x", "w_shape", "w", "b"}; a padding entry may be
      a [begin, end] pair), and writes one line per problem, in order: {"y_shape": [...], "y": [...]} or
      {"error": "..."}. Work past the limits (default 2e10 multiply-accumulates, 67108864 elements per
      tensor) is refused before anything is allocated. --engine webgpu runs on the GPU (Dawn) and falls
      back to the CPU engine, with a note on stderr, where WebGPU cannot run.

  convlens help           This text.

Shapes are comma-separated sizes in the framework's own layout: PyTorch and ONNX N,C,H,W; Keras and Flax N,H,W,C.
Layers: torch.nn Conv/ConvTranspose/MaxPool/AvgPool/AdaptiveAvgPool/AdaptiveMaxPool{1,2,3}d and their
torch.nn.functional forms; keras.layers Conv{1,2,3}D(Transpose), MaxPooling/AveragePooling{1,2,3}D;
tf.nn.conv2d_transpose; flax.linen Conv/ConvTranspose; jax.lax.conv_transpose; onnx Conv/ConvTranspose/MaxPool/AveragePool.
`;

async function runEval(): Promise<number> {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let buffer = '';
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let answer;
    try {
      answer = evaluateCase(JSON.parse(line));
    } catch (error) {
      answer = { error: `This line is not valid JSON: ${(error as Error).message}` };
    }
    buffer += JSON.stringify(answer) + '\n';
    if (buffer.length > 1 << 16) {
      process.stdout.write(buffer);
      buffer = '';
    }
  }
  process.stdout.write(buffer);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'eval':
      return runEval();
    case 'compute':
      return runCompute(rest);
    case 'shape':
      return runShape(rest);
    case 'solve':
      return runSolve(rest);
    case 'trace':
      return runTrace(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`convlens: unknown command '${command}'. Run 'convlens help' for the commands.\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`convlens: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
