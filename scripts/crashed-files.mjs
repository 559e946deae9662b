// A reporter for node's test runner (beside spec, see scripts/test.mjs): it keeps, in the file
// named by VYTIS_TEST_OUTCOMES, the test files whose process V8 killed with a fatal error of its
// own (the abort nodejs/node#64500 describes, on PGlite's WebAssembly: a signal, and on stderr
// V8's "Fatal error … Check failed", or a bare segmentation fault), how many failures the run had
// besides those crashes, and whether the run got to its end. Running out of heap is a failure, not
// such a crash. It writes as it goes, so a run cut short still leaves what it saw.
import fs from 'node:fs';
import path from 'node:path';

const CRASH_SIGNALS = new Set(['SIGABRT', 'SIGSEGV', 'SIGTRAP', 'SIGILL']);
const V8_FATAL = /# Fatal error in .*\n(.*\n)*?# Check failed/;
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit|Fatal process out of memory/;
/** What a process said last is what tells how it died: the rest of a chatty file's stderr is let go. */
const STDERR_KEPT = 64 * 1024;

export default async function* crashedFiles(source) {
  const out = process.env.VYTIS_TEST_OUTCOMES;
  const stderr = new Map();
  const crashed = new Set();
  let otherFailures = 0;
  const save = (done) => {
    if (out) fs.writeFileSync(out, JSON.stringify({ crashed: [...crashed], otherFailures, done }));
  };
  save(false);
  for await (const event of source) {
    const { details, nesting, message } = event.data ?? {};
    // Node 24 names a file relative to the working directory in some events, absolute in others.
    const file = event.data?.file ? path.resolve(event.data.file) : undefined;
    if (event.type === 'test:stderr' && file) {
      stderr.set(file, ((stderr.get(file) ?? '') + message).slice(-STDERR_KEPT));
    } else if (event.type === 'test:plan' && !file) {
      // The run's own plan comes once every file has ended (the summary after it may be cut off).
      save(true);
    } else if (event.type === 'test:fail' && event.data.todo === undefined) {
      // A todo test's failure is a known hole reported, not a failure of the run.
      const said = stderr.get(file) ?? '';
      const signal = details?.error?.signal;
      const v8Crash =
        nesting === 0 &&
        CRASH_SIGNALS.has(signal) &&
        !OUT_OF_MEMORY.test(said) &&
        (V8_FATAL.test(said) || signal === 'SIGSEGV');
      if (v8Crash) crashed.add(file);
      else otherFailures++;
      save(false);
    }
  }
  yield '';
}
