// Loaded into every test file's process (scripts/test.mjs). Once the file's last test has ended, the
// process has a few seconds to end by itself; then it exits, so a handle a test left open (a socket,
// a timer) cannot hold the run. Node's --test-force-exit did this, but with files run side by side it
// loses test results on their way to the runner (nodejs/node#64833): the run reported fewer tests
// than ran and still passed.
import { after } from 'node:test';

const GRACE_MS = 10_000;

if (process.env.NODE_TEST_CONTEXT) {
  after(() => {
    setTimeout(() => process.exit(), GRACE_MS).unref();
  });
}
