/**
 * `--name value` pairs from a command line (a flag with no value reads as 'true'); anything that
 * is not a `--name` where one is expected is refused, naming it. Shared by every CLI and benchmark.
 */
export function parseCliArgs(argv: readonly string[] = process.argv.slice(2)): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}' (options are --name value)`);
    out[a.slice(2)] = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'true';
  }
  return out;
}
