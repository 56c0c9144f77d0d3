import type { LayerDef } from './types';

/** Keras 3 / tf.keras conv, transposed conv and pooling layers, and tf.nn.conv2d_transpose. */
export const kerasLayers: readonly LayerDef[] = [];
