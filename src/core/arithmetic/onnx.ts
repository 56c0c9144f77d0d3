import type { LayerDef } from './types';

/** ONNX Conv, ConvTranspose, MaxPool, AveragePool. */
export const onnxLayers: readonly LayerDef[] = [];
