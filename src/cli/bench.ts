import { BenchUsageError, parseBenchArgs, USAGE } from '../bench/options.js';
import { PeerUnavailableError } from '../bench/peer-libnfs.js';
import { runBench, type BenchIo } from '../bench/run.js';

/**
 * `mountless bench [options]`: fio-style jobs against an NFS export (see
 * src/bench/options.ts for the options, bench/README.md for results).
 * `argv` is what follows the word `bench`. Exit codes: 0 done, 1 the run
 * failed (server, network, libnfs driver), 2 usage error or missing peer.
 */
export async function benchCommand(argv: string[], io: BenchIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) {
      io.stderr.write(`mountless bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    io.stdout.write(USAGE + '\n');
    return 0;
  }
  try {
    return await runBench(opts, io);
  } catch (err) {
    io.stderr.write(`mountless bench: ${(err as Error)?.message ?? String(err)}\n`);
    return err instanceof PeerUnavailableError ? 2 : 1;
  }
}
