/**
 * Finds the Python files a model imports, on disk: relative imports from the importing file's folder,
 * absolute ones from that folder and each folder above it (the way a project root on sys.path finds them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModuleLoader } from '../python/interpreter';
import { SourceFile } from '../python/syntax';

/** Files larger than this are not read: no model file is this big, and reading one must not stall. */
const MAX_FILE_BYTES = 5 * 1024 * 1024;

export class FileLoader implements ModuleLoader {
  private readonly cache = new Map<string, SourceFile | null>();

  load(filePath: string): SourceFile | null {
    const absolute = path.resolve(filePath);
    if (this.cache.has(absolute)) return this.cache.get(absolute)!;
    let file: SourceFile | null = null;
    try {
      const stat = fs.statSync(absolute);
      if (stat.isFile() && stat.size <= MAX_FILE_BYTES)
        file = new SourceFile(absolute, fs.readFileSync(absolute, 'utf8'));
    } catch {
      file = null;
    }
    this.cache.set(absolute, file);
    return file;
  }

  resolve(fromPath: string, moduleName: string, level: number): SourceFile | null {
    const parts = moduleName.split('.').filter(Boolean);
    let base = path.dirname(path.resolve(fromPath));
    if (level > 0) {
      for (let i = 1; i < level; i++) base = path.dirname(base);
      return this.find(base, parts);
    }
    for (let dir = base; ; dir = path.dirname(dir)) {
      const found = this.find(dir, parts);
      if (found) return found;
      if (path.dirname(dir) === dir) return null;
    }
  }

  private find(base: string, parts: readonly string[]): SourceFile | null {
    if (parts.length === 0) return this.load(path.join(base, '__init__.py'));
    const joined = path.join(base, ...parts);
    return this.load(joined + '.py') ?? this.load(path.join(joined, '__init__.py'));
  }
}
