/** What /readyz answers: every check, and whether all passed. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Runs every probe at once; a probe that throws is a failed check with its message as detail. */
export async function runProbes(probes: Record<string, () => Promise<string | undefined>>): Promise<Readiness['checks']> {
  const checks: Readiness['checks'] = {};
  await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        const detail = await probe();
        checks[name] = { ok: true, ...(detail && { detail }) };
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    }),
  );
  return checks;
}
