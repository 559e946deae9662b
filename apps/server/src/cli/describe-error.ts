import { AppError, type FieldProblem } from '../errors.ts';

/** One or a few lines a person can act on; never a stack trace for something they typed. */
export function describeError(error: unknown): string {
  if (error instanceof AppError) {
    const problems = Array.isArray(error.details) ? (error.details as FieldProblem[]) : [];
    const extra = problems.map((p) => `  ${p.field}: ${p.message}`).join('\n');
    return `${error.message}\n${extra ? `${extra}\n` : ''}`;
  }
  const err = error as { code?: string; message?: string };
  if (err.code === 'ECONNREFUSED') return `cannot reach the database: ${err.message}\n`;
  if (err.code === '3D000') return `the database does not exist: ${err.message}\n`;
  return `${err.message ?? String(error)}\n`;
}
