/**
 * What the shape analysis hands the editor, and the messages between the extension host and the analysis
 * worker. Everything here is plain data (numbers, strings, arrays, null), because it crosses a thread boundary
 * by structured clone; this module imports types only, so the extension bundle does not pull in the
 * interpreter.
 */
import type { Budget } from '../python/interpreter';
import type { DocumentDiagnostic, LayerSiteReport, ShapeHint } from '../python/document';

/** A layer constructor call, as the interpreter reports it, plus the callee as the user wrote it. */
export interface EditorLayer extends LayerSiteReport {
  /** The constructor exactly as written in the file (`nn.ConvTranspose2d`, `layers.Conv2D`). */
  readonly callee: string;
}

/**
 * A call that applies layers built elsewhere in the file (`self.conv(x)` in forward, `self.main(z)` on an
 * `nn.Sequential`), found from the syntax: the name the call uses is the name a layer constructor was
 * assigned to in the same class (or the same function or module for a plain variable).
 */
export interface EditorCall {
  readonly from: number;
  readonly to: number;
  /** The statement around the call, so a hover anywhere on a forward line finds it. */
  readonly statementFrom: number;
  readonly statementTo: number;
  /** The callee as written (`self.conv`). */
  readonly name: string;
  /** Indices into `layers`: one for a single layer, several (in order) for a container. */
  readonly layers: readonly number[];
  /** Whether the name is bound to a container of layers (Sequential, ModuleList) rather than one layer. */
  readonly container: boolean;
}

export interface EditorAnalysis {
  readonly layers: readonly EditorLayer[];
  readonly diagnostics: readonly DocumentDiagnostic[];
  readonly hints: readonly ShapeHint[];
  readonly calls: readonly EditorCall[];
  /** Why the analysis is incomplete, when it is (budget spent, an internal error). */
  readonly problems: readonly string[];
  /** Absolute paths of the workspace files this analysis read through imports. */
  readonly dependencies: readonly string[];
  /** How long the analysis took, for the log. */
  readonly milliseconds: number;
}

export interface AnalyzeRequest {
  /** Identifies the document (its URI as a string). */
  readonly key: string;
  /** The file path imports resolve from (the URI string for documents that are not files). */
  readonly path: string;
  readonly version: number;
  readonly text: string;
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  readonly budget?: Budget;
}

/** Messages from the extension host to the worker. */
export type ToWorker =
  | { readonly type: 'analyze'; readonly id: number; readonly request: AnalyzeRequest }
  /** The text of an open document, which imports read instead of the file on disk; null when it closed. */
  | { readonly type: 'overlay'; readonly path: string; readonly text: string | null }
  /** Workspace folders: absolute imports are looked up from the importing file's folder up to its root. */
  | { readonly type: 'roots'; readonly roots: readonly string[] };

/** Messages from the worker to the extension host. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly analysis: EditorAnalysis }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };

/** The `workerData` flag that tells the analysis bundle it runs as the worker (and not required in-process). */
export const WORKER_FLAG = 'convLensAnalysisWorker';
