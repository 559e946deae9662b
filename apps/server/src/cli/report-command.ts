import fs from 'node:fs/promises';
import path from 'node:path';
import type { CommandResult } from './commands.ts';

/**
 * `vytis report pdf`: writes the PDF the node rendered to `out`, through a temporary file renamed
 * into place, so a reader never finds half a report; says what it wrote.
 */
export async function writeReportPdf(result: CommandResult, out: string): Promise<CommandResult> {
  if (result.exitCode !== 0) return result;
  const { pdf, status, tlp } = JSON.parse(result.stdout) as { pdf: string; status: string; tlp: string };
  const bytes = Buffer.from(pdf, 'base64');
  const temporary = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(temporary, bytes, { flag: 'wx' });
    await fs.rename(temporary, out);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    return { exitCode: 1, stdout: '', stderr: `cannot write ${out}: ${(error as Error).message}\n` };
  }
  return {
    exitCode: 0,
    stdout: `wrote ${out}: the post-action report (${status}, TLP:${tlp.toUpperCase()}), ${bytes.length} bytes\n`,
    stderr: '',
  };
}
