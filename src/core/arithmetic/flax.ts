import type { LayerDef } from './types';

/** flax.linen.Conv, flax.linen.ConvTranspose and jax.lax.conv_transpose. */
export const flaxLayers: readonly LayerDef[] = [];
