/// <reference lib="webworker" />
/**
 * The preview's CPU engine in a Web Worker, so that a large layer never freezes the panel. It answers each
 * `convolve` request (src/protocol/preview.ts) with the CPU engine's result, moving the output buffer back
 * rather than copying it. Requests that fail the protocol check are answered with a failure, never run.
 */
import { convolveCpu } from '../../core/engine/cpu';
import { isWorkerRequest, type WorkerReply } from '../../protocol/preview';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

scope.onmessage = (event: MessageEvent<unknown>) => {
  const request = event.data;
  if (!isWorkerRequest(request)) {
    const id = (request as { id?: unknown } | null)?.id;
    reply({
      type: 'failed',
      id: typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : 0,
      error: 'The CPU worker received a message it does not understand.',
    });
    return;
  }
  const result = convolveCpu({ ...request, b: null, groups: 1 });
  if (!result.ok) {
    reply({ type: 'failed', id: request.id, error: result.error });
    return;
  }
  const { y, yShape, engine, milliseconds } = result.value;
  reply({ type: 'done', id: request.id, y, yShape, engine, milliseconds }, [y.buffer]);
};
