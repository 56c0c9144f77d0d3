/**
 * Keeps one shape analysis per open Python document, current with its text, and off the extension host's main
 * thread. Edits are debounced; the analysis of a document runs at most once per version (the cache is keyed by
 * document version); requests queue one at a time and each reads the document's newest text when it is sent,
 * so stale versions are never analysed and a stale answer is dropped. Documents that import a changed file are
 * analysed again. A worker that hangs (past WATCHDOG_MS) or dies is replaced; when no worker can start at all,
 * the same engine runs in-process under a tighter budget.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { Budget } from '../python/interpreter';
import {
  type AnalyzeRequest,
  type EditorAnalysis,
  type FromWorker,
  type ToWorker,
  WORKER_FLAG,
} from './analysisProtocol';

/** How long after the last edit the document is analysed again. */
export const DEBOUNCE_MS = 250;
/** Documents longer than this are skipped (the same limit as the engine's MAX_ANALYZED_CHARS). */
const MAX_CHARS = 1024 * 1024;
/** A worker that has not answered one request in this long is stopped and replaced. */
const WATCHDOG_MS = 20_000;
/** After this many replaced workers the analysis gives up for the session rather than loop. */
const MAX_RESTARTS = 3;
/** In a worker the interpreter may take longer than in-process: it blocks nothing the user sees. */
const WORKER_BUDGET: Budget = { steps: 3_000_000, depth: 80, loopIterations: 20_000, milliseconds: 2_000 };
/** In-process, the interpreter's own editor budget (400 ms) applies. */
const IN_PROCESS_BUDGET: Budget | undefined = undefined;

interface Backend {
  readonly kind: 'worker' | 'in-process';
  post(message: ToWorker): void;
  dispose(): void;
}

interface Cached {
  readonly version: number;
  readonly analysis: EditorAnalysis;
}

interface InFlight {
  readonly id: number;
  readonly key: string;
  readonly version: number;
  readonly timer: NodeJS.Timeout;
}

interface Waiter {
  readonly version: number;
  readonly resolve: (analysis: EditorAnalysis | undefined) => void;
}

export interface AnalyzedEvent {
  readonly document: vscode.TextDocument;
  readonly analysis: EditorAnalysis;
}

export class AnalysisService implements vscode.Disposable {
  private readonly results = new Map<string, Cached>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Documents waiting to be sent, in order; each is read when it is sent. */
  private readonly queue = new Map<string, vscode.TextDocument>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly tooLarge = new Set<string>();
  /**
   * Documents whose cached analysis is out of date although their own text is not: a module they import
   * changed, or the settings did. Their old analysis is still shown until the new one is ready.
   */
  private readonly stale = new Set<string>();
  private inFlight: InFlight | null = null;
  private backend: Backend | null = null;
  private restarts = 0;
  /** Set when no worker could start: the engine then runs in the extension host for the session. */
  private inProcess = false;
  private stopped = false;
  private nextId = 1;
  private warnedTooLarge = false;
  private readonly emitter = new vscode.EventEmitter<AnalyzedEvent>();
  /** Fires when a document's analysis for its current version is ready. */
  readonly onDidAnalyze = this.emitter.event;

  constructor(
    private readonly bundlePath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly inputShapes: (document: vscode.TextDocument) => Record<string, number[]>,
  ) {}

  static isAnalyzable(document: vscode.TextDocument): boolean {
    return (
      document.languageId === 'python' &&
      (document.uri.scheme === 'file' || document.uri.scheme === 'untitled')
    );
  }

  /** The analysis of the document's current version, if it is ready. */
  cached(document: vscode.TextDocument): EditorAnalysis | undefined {
    const hit = this.results.get(document.uri.toString());
    return hit && hit.version === document.version ? hit.analysis : undefined;
  }

  /**
   * The analysis of the document's current version: at once when it is cached, else after it runs (it is
   * started now when nothing is pending). Undefined when the request is cancelled, the document changes again
   * first, or it cannot be analysed.
   */
  analysisFor(
    document: vscode.TextDocument,
    token?: vscode.CancellationToken,
  ): Promise<EditorAnalysis | undefined> {
    const hit = this.cached(document);
    if (hit) return Promise.resolve(hit);
    if (!AnalysisService.isAnalyzable(document) || this.stopped) return Promise.resolve(undefined);
    const key = document.uri.toString();
    return new Promise((resolve) => {
      const waiters = this.waiters.get(key) ?? new Set<Waiter>();
      const cleanup: (() => void)[] = [];
      const waiter: Waiter = {
        version: document.version,
        resolve: (analysis) => {
          waiters.delete(waiter);
          for (const release of cleanup) release();
          resolve(analysis);
        },
      };
      waiters.add(waiter);
      this.waiters.set(key, waiters);
      // Every path settles a waiter (answer, failure, watchdog, close); the timeout is only a last resort.
      const timeout = setTimeout(() => waiter.resolve(undefined), WATCHDOG_MS + 5_000);
      cleanup.push(() => clearTimeout(timeout));
      const subscription = token?.onCancellationRequested(() => waiter.resolve(undefined));
      if (subscription) cleanup.push(() => subscription.dispose());
      // Started after the waiter is registered: a document that is skipped settles at once.
      const running = this.inFlight?.key === key && this.inFlight.version === document.version;
      if (!this.timers.has(key) && !this.queue.has(key) && !running) this.enqueue(document);
    });
  }

  /** Analyses the document after `delayMs` of quiet (the debounce), then the open documents that import it. */
  schedule(document: vscode.TextDocument, delayMs = DEBOUNCE_MS): void {
    if (!AnalysisService.isAnalyzable(document) || this.stopped) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (document.isClosed) return;
        this.enqueue(document);
        for (const dependent of this.dependentsOf(pathOf(document))) {
          this.stale.add(dependent.uri.toString());
          this.enqueue(dependent);
        }
      }, delayMs),
    );
  }

  /** A workspace file changed on disk (or an open one closed): analyse the open documents that import it. */
  dependencyChanged(filePath: string): void {
    for (const dependent of this.dependentsOf(filePath)) {
      this.stale.add(dependent.uri.toString());
      this.schedule(dependent);
    }
  }

  /** Drops everything about a closed document; imports of it read the disk again. */
  forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.queue.delete(key);
    this.results.delete(key);
    this.stale.delete(key);
    this.tooLarge.delete(key);
    for (const waiter of [...(this.waiters.get(key) ?? [])]) waiter.resolve(undefined);
    this.waiters.delete(key);
    this.backend?.post({ type: 'overlay', path: pathOf(document), text: null });
    if (document.uri.scheme === 'file') this.dependencyChanged(document.uri.fsPath);
  }

  /** Settings or workspace folders changed: every open document is analysed again. */
  reanalyzeAll(): void {
    this.tooLarge.clear();
    if (this.backend) this.backend.post({ type: 'roots', roots: workspaceRoots() });
    for (const document of vscode.workspace.textDocuments) {
      if (!AnalysisService.isAnalyzable(document)) continue;
      this.stale.add(document.uri.toString());
      this.schedule(document, 0);
    }
  }

  private dependentsOf(filePath: string): vscode.TextDocument[] {
    const found: vscode.TextDocument[] = [];
    for (const document of vscode.workspace.textDocuments) {
      const hit = this.results.get(document.uri.toString());
      if (hit?.analysis.dependencies.includes(filePath)) found.push(document);
    }
    return found;
  }

  private enqueue(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    this.queue.delete(key);
    this.queue.set(key, document);
    this.pump();
  }

  /** Sends the next queued document, reading its text now: one request in flight at a time. */
  private pump(): void {
    if (this.inFlight || this.stopped) return;
    for (const [key, document] of this.queue) {
      this.queue.delete(key);
      if (document.isClosed) continue;
      const hit = this.results.get(key);
      if (hit && hit.version === document.version && !this.stale.has(key)) {
        this.settle(document, hit.analysis);
        continue;
      }
      this.stale.delete(key);
      const text = document.getText();
      if (text.length > MAX_CHARS) {
        this.skipLarge(document, key);
        continue;
      }
      const backend = this.ensureBackend();
      if (!backend) return;
      const id = this.nextId++;
      const request: AnalyzeRequest = {
        key,
        path: pathOf(document),
        version: document.version,
        text,
        inputShapes: this.inputShapes(document),
        budget: backend.kind === 'worker' ? WORKER_BUDGET : IN_PROCESS_BUDGET,
      };
      const timer = setTimeout(() => this.hung(id), WATCHDOG_MS);
      this.inFlight = { id, key, version: document.version, timer };
      backend.post({ type: 'analyze', id, request });
      return;
    }
  }

  private skipLarge(document: vscode.TextDocument, key: string): void {
    const analysis: EditorAnalysis = {
      layers: [],
      diagnostics: [],
      hints: [],
      calls: [],
      problems: ['The file is larger than 1 MB; Conv Lens does not analyse it.'],
      dependencies: [],
      milliseconds: 0,
    };
    if (!this.tooLarge.has(key)) {
      this.tooLarge.add(key);
      this.log.info(`Skipped ${document.uri.fsPath || key}: larger than 1 MB.`);
      if (!this.warnedTooLarge) {
        this.warnedTooLarge = true;
        void vscode.window.showInformationMessage(
          `Conv Lens does not analyse ${path.basename(document.uri.path)}: files larger than 1 MB are skipped, so no shapes are shown there.`,
        );
      }
    }
    this.results.set(key, { version: document.version, analysis });
    this.settle(document, analysis);
  }

  private received(message: FromWorker): void {
    if (message.type === 'ready') return;
    const flight = this.inFlight;
    if (!flight || flight.id !== message.id) return;
    clearTimeout(flight.timer);
    this.inFlight = null;
    const analysis =
      message.type === 'result'
        ? message.analysis
        : failedAnalysis(`The shape analysis failed: ${message.message.split('\n')[0]}`);
    if (message.type === 'failed') this.log.error(`Analysis of ${flight.key} failed: ${message.message}`);
    else if (analysis.problems.length > 0)
      this.log.warn(`${flight.key} (${analysis.milliseconds} ms): ${analysis.problems.join(' ')}`);
    else this.log.trace(`Analysed ${flight.key} v${flight.version} in ${analysis.milliseconds} ms.`);
    this.deliver(flight.key, flight.version, analysis);
    this.pump();
  }

  private deliver(key: string, version: number, analysis: EditorAnalysis): void {
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    if (!document || document.isClosed) return;
    // An answer for an older version has offsets into text that no longer exists: it is dropped, and the
    // newer version is already scheduled by the change that made it.
    if (document.version !== version) return;
    this.results.set(key, { version, analysis });
    this.settle(document, analysis);
  }

  private settle(document: vscode.TextDocument, analysis: EditorAnalysis): void {
    const key = document.uri.toString();
    for (const waiter of [...(this.waiters.get(key) ?? [])]) {
      if (waiter.version === document.version) waiter.resolve(analysis);
      else if (waiter.version < document.version) waiter.resolve(undefined);
    }
    this.emitter.fire({ document, analysis });
  }

  /** The worker did not answer in time: replace it and give this version up (the next edit tries again). */
  private hung(id: number): void {
    const flight = this.inFlight;
    if (!flight || flight.id !== id) return;
    this.log.error(`The analysis of ${flight.key} did not finish in ${WATCHDOG_MS / 1000} s; restarting it.`);
    this.inFlight = null;
    this.replaceBackend();
    this.deliver(
      flight.key,
      flight.version,
      failedAnalysis(`The shape analysis did not finish in ${WATCHDOG_MS / 1000} s and was stopped.`),
    );
    this.pump();
  }

  /** A worker died (out of memory, a crash): fail what it was doing and start another. */
  private crashed(worker: WorkerBackend, why: string): void {
    if (this.backend !== worker) return;
    const flight = this.inFlight;
    this.inFlight = null;
    if (flight) clearTimeout(flight.timer);
    if (!worker.ready) {
      // The worker never started (no worker threads here, or the bundle cannot load in one): run the same
      // engine in the extension host instead, and send the request again.
      this.log.warn(`No analysis worker (${why}); analysing in the extension host instead.`);
      this.backend.dispose();
      this.backend = null;
      this.inProcess = true;
      const document = flight && vscode.workspace.textDocuments.find((d) => d.uri.toString() === flight.key);
      if (document) this.enqueue(document);
      else this.pump();
      return;
    }
    this.log.error(`The analysis worker stopped: ${why}`);
    this.replaceBackend();
    if (flight) {
      this.deliver(flight.key, flight.version, failedAnalysis(`The shape analysis stopped: ${why}`));
    }
    this.pump();
  }

  private replaceBackend(): void {
    this.backend?.dispose();
    this.backend = null;
    this.restarts++;
    if (this.restarts > MAX_RESTARTS) {
      this.stopped = true;
      this.log.error('The shape analysis failed too often and is off until the window reloads.');
      void vscode.window.showWarningMessage(
        'Conv Lens stopped analysing shapes after repeated failures; reload the window to try again.',
      );
      for (const waiters of this.waiters.values())
        for (const waiter of [...waiters]) waiter.resolve(undefined);
    }
  }

  private ensureBackend(): Backend | null {
    if (this.backend || this.stopped) return this.backend;
    try {
      if (this.inProcess) throw new Error('the worker did not start before');
      this.backend = new WorkerBackend(
        this.bundlePath,
        (message) => this.received(message),
        (worker, why) => this.crashed(worker, why),
      );
    } catch (error) {
      if (!this.inProcess)
        this.log.warn(`No analysis worker (${String(error)}); analysing in-process instead.`);
      this.inProcess = true;
      try {
        this.backend = new InProcessBackend(this.bundlePath, (message) => this.received(message));
      } catch (inner) {
        this.stopped = true;
        this.log.error(`The shape analysis cannot load: ${String(inner)}`);
        return null;
      }
    }
    this.backend.post({ type: 'roots', roots: workspaceRoots() });
    // The texts of open documents, which imports read instead of the disk.
    for (const document of vscode.workspace.textDocuments) {
      if (AnalysisService.isAnalyzable(document) && document.uri.scheme === 'file' && document.isDirty)
        this.backend.post({ type: 'overlay', path: document.uri.fsPath, text: document.getText() });
    }
    return this.backend;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.inFlight) clearTimeout(this.inFlight.timer);
    this.inFlight = null;
    this.backend?.dispose();
    this.backend = null;
    this.stopped = true;
    for (const waiters of this.waiters.values()) for (const waiter of [...waiters]) waiter.resolve(undefined);
    this.emitter.dispose();
  }
}

/** The analysis bundle in a worker thread, with a memory cap so a runaway analysis cannot eat the host's. */
class WorkerBackend implements Backend {
  readonly kind = 'worker' as const;
  readonly worker: Worker;
  /** Whether the worker said it is ready: a worker that fails before that cannot run at all. */
  ready = false;
  private disposed = false;

  constructor(
    bundlePath: string,
    onMessage: (message: FromWorker) => void,
    onCrash: (worker: WorkerBackend, why: string) => void,
  ) {
    const worker = new Worker(bundlePath, {
      workerData: { [WORKER_FLAG]: true },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    this.worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') this.ready = true;
      onMessage(message);
    });
    worker.on('error', (error) => {
      if (!this.disposed) onCrash(this, error instanceof Error ? error.message : String(error));
    });
    worker.on('exit', (code) => {
      if (!this.disposed) onCrash(this, `it exited with code ${code}`);
    });
    worker.unref();
  }

  post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  dispose(): void {
    this.disposed = true;
    void this.worker.terminate();
  }
}

/** The same engine in the extension host, answering asynchronously like the worker does. */
class InProcessBackend implements Backend {
  readonly kind = 'in-process' as const;
  private readonly engine: {
    setRoots(roots: readonly string[]): void;
    setOverlay(path: string, text: string | null): void;
    analyze(request: AnalyzeRequest): EditorAnalysis;
  };
  private disposed = false;

  constructor(
    bundlePath: string,
    private readonly onMessage: (message: FromWorker) => void,
  ) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(bundlePath) as { AnalysisEngine: new () => InProcessBackend['engine'] };
    this.engine = new bundle.AnalysisEngine();
  }

  post(message: ToWorker): void {
    if (message.type === 'roots') this.engine.setRoots(message.roots);
    else if (message.type === 'overlay') this.engine.setOverlay(message.path, message.text);
    else {
      setImmediate(() => {
        if (this.disposed) return;
        try {
          this.onMessage({ type: 'result', id: message.id, analysis: this.engine.analyze(message.request) });
        } catch (error) {
          this.onMessage({ type: 'failed', id: message.id, message: String(error) });
        }
      });
    }
  }

  dispose(): void {
    this.disposed = true;
  }
}

function failedAnalysis(problem: string): EditorAnalysis {
  return {
    layers: [],
    diagnostics: [],
    hints: [],
    calls: [],
    problems: [problem],
    dependencies: [],
    milliseconds: 0,
  };
}

/** The path imports resolve from: the file's, or the URI for a document that is not a file. */
export function pathOf(document: vscode.TextDocument): string {
  return document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.toString();
}

function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((folder) => folder.uri.scheme === 'file')
    .map((folder) => folder.uri.fsPath);
}
