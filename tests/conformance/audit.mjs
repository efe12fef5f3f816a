// Owns the GraphQL-over-HTTP audit of carematch (issue 21): every server audit of the pinned
// `graphql-http` package, the reference implementation of the GraphQL over HTTP specification,
// against a running carematch. A warning counts as a failure: the bar is 0 of each. A notice
// (an optional MAY of the specification not taken) is printed and does not fail.
//
//   node audit.mjs http://127.0.0.1:PORT/graphql
//
// Prints one line per audit and the totals; the exit code is non-zero when any audit did not
// pass. crates/cli/tests/conformance.rs runs it against the real binary.

import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!/^https?:\/\/.+\/graphql$/.test(url ?? '')) {
  console.error('usage: node audit.mjs <carematch /graphql URL>');
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url })) {
  let result;
  try {
    result = await audit.fn();
  } catch (error) {
    result = { status: 'error', reason: `the audit crashed: ${error?.stack ?? error}` };
  }
  if (!(result.status in counts)) result = { status: 'error', reason: `unknown audit status ${result.status}: ${result.reason}` };
  counts[result.status] += 1;
  const label = { ok: 'PASS', notice: 'NOTE', warn: 'WARN', error: 'FAIL' }[result.status];
  console.log(`${label} ${audit.id} ${audit.name}`);
  if (result.status !== 'ok') {
    console.log(`     ${result.reason}`);
    if (result.response) {
      const body = await result.response.text().catch(() => '');
      console.log(`     HTTP ${result.response.status} ${result.response.headers.get('content-type') ?? ''} ${body.slice(0, 300)}`);
    }
  }
}
console.log(
  `graphql-http audit: ${counts.ok} ok, ${counts.notice} notices, ${counts.warn} warnings, ${counts.error} failures`,
);
process.exit(counts.warn || counts.error ? 1 : 0);
