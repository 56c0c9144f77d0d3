import type { LayerDef } from './types';

/** PyTorch torch.nn conv, transposed conv and pooling modules and their functional forms. */
export const torchLayers: readonly LayerDef[] = [];
