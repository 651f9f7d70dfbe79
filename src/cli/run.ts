// Runs the CLI from source (node --import tsx src/cli/run.ts …): used by tests that need a
// real child process (signals, kill -9). Installed users run bin/estuary.js, which runs dist/.
import { describeError } from '../errors.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(describeError(err));
    process.exitCode = 1;
  },
);
