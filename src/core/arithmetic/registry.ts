/**
 * Every layer type the core knows, found by its qualified name or by the short names users write
 * (`nn.Conv2d`, `layers.Conv2DTranspose`, `F.conv2d`).
 */
import { flaxLayers } from './flax';
import { flaxModuleLayers } from './flaxModules';
import { kerasLayers } from './keras';
import { kerasModuleLayers } from './kerasModules';
import { onnxLayers } from './onnx';
import { torchLayers } from './torch';
import { torchModuleLayers } from './torchModules';
import type { LayerDef } from './types';

export const allLayers: readonly LayerDef[] = [
  ...torchLayers,
  ...torchModuleLayers,
  ...kerasLayers,
  ...kerasModuleLayers,
  ...flaxLayers,
  ...flaxModuleLayers,
  ...onnxLayers,
];

const byName = new Map<string, LayerDef>(allLayers.map((def) => [def.name, def]));

/** Prefixes users write in place of a layer's qualified module path, per qualified prefix. */
const SHORT_PREFIXES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['torch.nn.functional.', ['F.', 'nn.functional.', 'torch.nn.functional.']],
  ['torch.nn.', ['nn.', 'torch.nn.']],
  ['keras.layers.', ['layers.', 'keras.layers.', 'tf.keras.layers.', 'tensorflow.keras.layers.']],
  ['tf.nn.', ['tf.nn.', 'tensorflow.nn.']],
  ['flax.linen.', ['nn.', 'linen.', 'flax.linen.']],
  ['jax.lax.', ['lax.', 'jax.lax.']],
  ['onnx.', ['onnx.']],
];

/** Looks a layer up by qualified name (`torch.nn.Conv2d`). */
export function layerByQualifiedName(name: string): LayerDef | undefined {
  return byName.get(name);
}

/**
 * Finds the layers a name as written could mean. `nn.Conv` is Flax, `nn.Conv2d` PyTorch; where a short
 * name fits several frameworks, `preferred` decides the order.
 */
export function resolveLayerName(written: string, preferred?: LayerDef['framework']): LayerDef[] {
  const exact = byName.get(written);
  if (exact) return [exact];
  const matches: LayerDef[] = [];
  for (const [qualifiedPrefix, shortPrefixes] of SHORT_PREFIXES) {
    for (const shortPrefix of shortPrefixes) {
      if (!written.startsWith(shortPrefix)) continue;
      const def = byName.get(qualifiedPrefix + written.slice(shortPrefix.length));
      if (def && !matches.includes(def)) matches.push(def);
    }
  }
  if (matches.length === 0 && !written.includes('.')) {
    for (const def of allLayers) if (def.name.endsWith('.' + written)) matches.push(def);
  }
  if (preferred)
    matches.sort((a, b) => Number(b.framework === preferred) - Number(a.framework === preferred));
  return matches;
}
