import { BenchUsageError, K8S_USAGE, parseBenchArgs, parseK8sArgs, parseReportArgs, REPORT_USAGE, splitJobFile, USAGE } from '../bench/options.js';
import { PeerUnavailableError } from '../bench/peer-libnfs.js';
import { runBench, type BenchIo } from '../bench/run.js';

/**
 * `mountless bench [options]` or `mountless bench JOBFILE [options]` (a fio
 * job file, src/bench/job-file.ts): fio-style jobs against an NFS export (see
 * src/bench/options.ts for the options, bench/README.md for results);
 * `mountless bench report RUN` and `mountless bench k8s …` for runs of
 * several workers. `argv` is what follows the word `bench`. Exit codes: 0
 * done, 1 the run failed (server, network, libnfs driver, a worker missing
 * at the barrier or in the report), 2 usage error or missing peer.
 */
export async function benchCommand(argv: string[], io: BenchIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const sub = argv[0] === 'report' || argv[0] === 'k8s' ? argv[0] : undefined;
  const prefix = `mountless bench${sub ? ' ' + sub : ''}`;
  let action: () => Promise<number>;
  try {
    if (sub === 'report') {
      const o = parseReportArgs(argv.slice(1));
      if (o === 'help') return help(io, REPORT_USAGE);
      const { benchReport } = await import('../bench/run-report.js');
      action = () => benchReport(o, io);
    } else if (sub === 'k8s') {
      const o = parseK8sArgs(argv.slice(1));
      if (o === 'help') return help(io, K8S_USAGE);
      const { k8sManifest } = await import('../bench/k8s.js');
      io.stdout.write(k8sManifest(o));
      return 0;
    } else if (splitJobFile(argv).file !== undefined) {
      // A fio job file: `mountless bench job.fio [options]`, the options anywhere.
      const { file, rest } = splitJobFile(argv) as { file: string; rest: string[] };
      if (rest.includes('--help')) return help(io, USAGE);
      const { jobOptions, parseJobFile, runJobFile } = await import('../bench/job-file.js');
      // Parse the whole file now, so a usage error is exit code 2 before anything runs.
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(file, 'utf8').catch((err: Error) => {
        throw new BenchUsageError(`cannot read job file ${file}: ${err.message}`);
      });
      jobOptions(parseJobFile(text, file), rest, file);
      action = () => runJobFile(file, rest, io);
    } else {
      const o = parseBenchArgs(argv);
      if (o === 'help') return help(io, USAGE);
      action = () => runBench(o, io);
    }
  } catch (err) {
    if (err instanceof BenchUsageError) {
      io.stderr.write(`${prefix}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    return await action();
  } catch (err) {
    io.stderr.write(`${prefix}: ${(err as Error)?.message ?? String(err)}\n`);
    return err instanceof PeerUnavailableError ? 2 : 1;
  }
}

function help(io: BenchIo, text: string): number {
  io.stdout.write(text + '\n');
  return 0;
}
