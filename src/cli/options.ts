/**
 * A small reader for `--name value` / `--flag` options, enough for convlens' few commands. Unknown options are
 * reported, not ignored, so a typo never silently changes an answer.
 */
export interface ParsedOptions {
  readonly positional: string[];
  readonly values: Map<string, string>;
  readonly flags: Set<string>;
}

export class UsageError extends Error {}

export function parseOptions(
  args: readonly string[],
  valueOptions: readonly string[],
  flagOptions: readonly string[],
): ParsedOptions {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (flagOptions.includes(name)) {
      flags.add(name);
    } else if (valueOptions.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value.`);
      values.set(name, value);
    } else {
      throw new UsageError(
        `unknown option --${name}. Options here: ${[...valueOptions, ...flagOptions].map((o) => '--' + o).join(', ')}.`,
      );
    }
  }
  return { positional, values, flags };
}

/** Reads a whole number option, with a message naming the option. */
export function integerOption(options: ParsedOptions, name: string, fallback?: number): number {
  const text = options.values.get(name);
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required.`);
    return fallback;
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name} must be a whole number, not '${text}'.`);
  return value;
}

/** Prints a usage problem the way every convlens command does, and returns the exit code for it. */
export function reportUsage(command: string, error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`convlens ${command}: ${error.message}\nRun 'convlens help' for examples.\n`);
    return 2;
  }
  throw error;
}
