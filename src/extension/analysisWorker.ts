/**
 * The analysis bundle (dist/analysisWorker.js). Started as a worker thread with `workerData` carrying
 * WORKER_FLAG, it answers the extension host's messages one at a time, so the shape interpreter never runs on
 * the host's main thread. Required in-process (the fallback when a worker cannot start), it only exports the
 * engine. Either way the extension bundle itself stays free of the interpreter, which keeps activation cheap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AnalysisEngine } from './analysisEngine';
import { type FromWorker, type ToWorker, WORKER_FLAG } from './analysisProtocol';

export { AnalysisEngine };

function serve(): void {
  const port = parentPort;
  if (!port) return;
  const engine = new AnalysisEngine();
  const reply = (message: FromWorker) => port.postMessage(message);
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'roots':
        engine.setRoots(message.roots);
        return;
      case 'overlay':
        engine.setOverlay(message.path, message.text);
        return;
      case 'analyze':
        try {
          reply({ type: 'result', id: message.id, analysis: engine.analyze(message.request) });
        } catch (error) {
          reply({
            type: 'failed',
            id: message.id,
            message: error instanceof Error ? (error.stack ?? error.message) : String(error),
          });
        }
        return;
    }
  });
  reply({ type: 'ready' });
}

if ((workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) serve();
