// Loaded with `node --require` into each mocha process of the ably-js conformance run: the runner
// holds this process's stdin, so when the runner dies (even by SIGKILL) the pipe closes and the
// test process goes too instead of running on against a service that no longer exists.
'use strict';
process.stdin.on('end', () => process.exit(1));
process.stdin.on('error', () => process.exit(1));
process.stdin.resume();
// The pipe alone must not keep a finished mocha run alive.
if (typeof process.stdin.unref === 'function') process.stdin.unref();
