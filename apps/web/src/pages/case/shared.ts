// What the case's tabs share: the TLP choices, the write hook, field errors.
import { TLPS } from '@vytis/contracts';
import { ApiError } from '../../api/client.ts';

// The observables tab still writes through it.
export { useCaseWrite } from '../../api/cases.ts';

export const OBSERVABLE_TYPES = [
  'ip-dst',
  'ip-src',
  'domain',
  'hostname',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'filename',
  'vulnerability',
  'AS',
];
export const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));

export const fieldError = (error: unknown, field: string) =>
  error instanceof ApiError ? error.forField(`body/${field}`) : undefined;
