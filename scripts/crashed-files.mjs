// A reporter for node's test runner (beside spec, see scripts/test.mjs): it keeps, in the file
// named by VYTIS_TEST_OUTCOMES, the test files whose process died of a native crash (a signal such
// as SIGABRT or SIGSEGV: V8 aborting, say, which a test's own failure never causes) and how many
// failures the run had besides those files. It writes as it goes: --test-force-exit ends the run
// before a reporter's own output is flushed.
import fs from 'node:fs';

const CRASH_SIGNALS = new Set(['SIGABRT', 'SIGSEGV', 'SIGTRAP', 'SIGILL', 'SIGBUS']);

export default async function* crashedFiles(source) {
  const out = process.env.VYTIS_TEST_OUTCOMES;
  const crashed = new Set();
  const failedIn = [];
  const save = () => {
    const otherFailures = failedIn.filter((file) => !crashed.has(file)).length;
    if (out) fs.writeFileSync(out, JSON.stringify({ crashed: [...crashed], otherFailures }));
  };
  save();
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { file, details } = event.data;
    if (CRASH_SIGNALS.has(details?.error?.signal)) crashed.add(file);
    else failedIn.push(file);
    save();
  }
  save();
  yield '';
}
