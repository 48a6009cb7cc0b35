import { UnavailableError } from '../errors.ts';

/** Connection failures become UnavailableError (503, retry) naming `dependency`; SQL errors stay errors. */
export function postgresError(error: unknown, dependency: string): Error {
  const code = (error as { code?: string }).code ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|57P0\d|08\d\d\d)$/.test(code) || /timeout|terminated|Connection/i.test((error as Error).message)) {
    return new UnavailableError(dependency, (error as Error).message, { cause: error });
  }
  return error as Error;
}
