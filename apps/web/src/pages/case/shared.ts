// What the case's tabs share: the TLP choices and field errors.
import { TLPS } from '@vytis/contracts';
import { ApiError } from '../../api/client.ts';

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
