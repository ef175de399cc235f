// `mountless bench k8s` and the options of a run of several workers: the
// printed manifest parsed with the yaml package, checked against the shape
// Kubernetes needs (no kubectl here), and the example kept in step with it.
import { readFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { toYaml } from '../../src/bench/k8s.js';
import { parseBenchArgs, type BenchOptions } from '../../src/bench/options.js';
import { benchCommand } from '../../src/cli/bench.js';

async function bench(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await benchCommand(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

interface Container {
  args: string[];
  image: string;
  env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
  resources: { requests: { cpu: string } };
  securityContext: { runAsNonRoot: boolean; allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; privileged?: boolean; capabilities: { drop: string[]; add?: string[] } };
}
interface JobDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    backoffLimit: number;
    template: { spec: { restartPolicy: string; securityContext: { runAsNonRoot: boolean; runAsUser: number }; hostNetwork?: boolean; volumes?: unknown[]; containers: Container[] } };
  };
}

function parse(text: string): JobDoc[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
  return docs.map((d) => d.toJS() as JobDoc).filter((d) => d !== null);
}

function checkUnprivileged(t: Test, doc: JobDoc): void {
  const pod = doc.spec.template.spec;
  t.equal(pod.securityContext.runAsNonRoot, true, `${doc.metadata.name}: pod runs as non-root`);
  t.ok(pod.securityContext.runAsUser > 0);
  t.notOk(pod.hostNetwork || pod.volumes, 'no host network, no volumes');
  for (const c of pod.containers) {
    t.equal(c.securityContext.allowPrivilegeEscalation, false);
    t.equal(c.securityContext.runAsNonRoot, true);
    t.same(c.securityContext.capabilities.drop, ['ALL'], 'every capability dropped');
    t.notOk(c.securityContext.capabilities.add, 'none added');
    t.notOk(c.securityContext.privileged);
  }
}

t.test('bench k8s prints an Indexed Job (N pods at once) and a report Job', async (t) => {
  const r = await bench(['k8s', '--run-id', 'nightly-1', '--workers', '4', '--image', 'registry.example/mountless:0.1', '--namespace', 'perf', '--rw', 'randread', '--bs', '4k', '--iodepth=32', '--numjobs', '2', '--runtime', '30', '--time_based', '--direct=1']);
  t.equal(r.code, 0, r.err);
  const [job, report, ...rest] = parse(r.out);
  t.equal(rest.length, 0, 'two documents');
  t.equal(job!.apiVersion, 'batch/v1');
  t.equal(job!.kind, 'Job');
  t.equal(job!.metadata.namespace, 'perf');
  t.match(job!.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS-1123 name');
  t.equal(job!.spec.completionMode, 'Indexed');
  t.equal(job!.spec.completions, 4);
  t.equal(job!.spec.parallelism, 4, 'parallelism = completions: all pods run at once');
  t.equal(job!.spec.template.spec.restartPolicy, 'Never');
  const c = job!.spec.template.spec.containers[0]!;
  t.equal(c.image, 'registry.example/mountless:0.1');
  t.same(c.args, ['bench', '--rw', 'randread', '--bs', '4k', '--iodepth=32', '--numjobs', '2', '--runtime', '30', '--time_based', '--direct=1', '--run-id', 'nightly-1', '--workers', '4'], 'the bench options passed through, no worker index (the Job sets JOB_COMPLETION_INDEX)');
  t.same(c.env[0], { name: 'NFS_URL', valueFrom: { secretKeyRef: { name: 'mountless-nas', key: 'url' } } });
  t.equal(c.resources.requests.cpu, '2', 'a core per job');
  checkUnprivileged(t, job!);
  t.equal(report!.kind, 'Job');
  t.notOk(report!.spec.completionMode, 'the report is one pod');
  t.same(report!.spec.template.spec.containers[0]!.args, ['bench', 'report', 'nightly-1', '--wait', '3600']);
  checkUnprivileged(t, report!);
  t.match(r.out, /kubectl logs -n perf job\/mountless-bench-nightly-1-report/, 'the report step is printed');
  // What the pods will run parses, as pod 3 sees it.
  const o = parseBenchArgs(c.args.slice(1), { NFS_URL: 'nfs://nas/export', JOB_COMPLETION_INDEX: '3' }) as BenchOptions;
  t.same(o.distributed, { runId: 'nightly-1', workerIndex: 3, workers: 4, barrierTimeout: 600 });
});

t.test('bench k8s refuses what a pod would refuse, before any pod runs', async (t) => {
  t.match(await bench(['k8s', '--workers', '2']), { code: 2, err: /needs --run-id/ });
  t.match(await bench(['k8s', '--run-id', 'x']), { code: 2, err: /needs --workers/ });
  t.match(await bench(['k8s', '--run-id', 'x', '--workers', '2', '--bs', '4q']), { code: 2, err: /--bs: invalid size/ });
  t.match(await bench(['k8s', '--run-id', 'x', '--workers', '2', '--worker-index', '1']), { code: 2, err: /--worker-index is not for bench k8s/ });
  t.match(await bench(['k8s', '--run-id', '../x', '--workers', '2']), { code: 2, err: /--run-id/ });
  const lit = await bench(['k8s', '--run-id', 'x', '--workers', '2', '--url', 'nfs://nas/export?uid=1000']);
  t.same(parse(lit.out)[0]!.spec.template.spec.containers[0]!.env[0], { name: 'NFS_URL', value: 'nfs://nas/export?uid=1000' }, '--url: the URL itself');
});

t.test('the example manifest is what bench k8s prints', async (t) => {
  const dir = new URL('../../examples/kubernetes/bench/', import.meta.url);
  const example = await readFile(new URL('bench-job.yaml', dir), 'utf8');
  const cmd = /^# Generated by: mountless (bench k8s .*)$/m.exec(example);
  t.ok(cmd, 'the example says how it was made');
  const printed = await bench(cmd![1]!.split(' ').slice(1));
  t.equal(printed.code, 0, printed.err);
  t.equal(example.slice(example.indexOf('---')), printed.out.slice(printed.out.indexOf('---')), 'same documents');
  const docs = parse(example);
  t.equal(docs[0]!.spec.completionMode, 'Indexed');
  t.match(await readFile(new URL('README.md', dir), 'utf8'), /bench report/);
});

t.test('run options: run id, workers, worker index from JOB_COMPLETION_INDEX', async (t) => {
  const p = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseBenchArgs(['--url=nfs://h/e', ...argv], env) as BenchOptions;
  t.same(p(['--run-id', 'r', '--workers', '3'], { JOB_COMPLETION_INDEX: '2' }).distributed, { runId: 'r', workerIndex: 2, workers: 3, barrierTimeout: 600 });
  t.equal(p(['--run-id', 'r', '--workers', '3', '--worker-index', '1'], { JOB_COMPLETION_INDEX: '2' }).distributed!.workerIndex, 1, 'the option wins');
  t.equal(p(['--run-id', 'r', '--workers', '3', '--worker-index', '0', '--barrier-timeout', '5']).distributed!.barrierTimeout, 5);
  t.equal(p([]).distributed, undefined);
  t.throws(() => p(['--run-id', 'r', '--workers', '3']), /JOB_COMPLETION_INDEX/);
  t.throws(() => p(['--run-id', 'r', '--workers', '3', '--worker-index', '3']), /not below --workers 3/);
  t.throws(() => p(['--run-id', 'r']), /needs --workers/);
  t.throws(() => p(['--workers', '3']), /give --run-id too/);
  t.throws(() => p(['--run-id', 'r', '--workers', '2', '--worker-index', '0', '--iodepth', '1,2']), /no list for --iodepth/);
  t.throws(() => p(['--run-id', 'a/b', '--workers', '2', '--worker-index', '0']), /--run-id/);
  const o = p(['--single', '--group_reporting', '--numjobs', '2']);
  t.equal(o.single, true);
  t.equal(o.groupReporting, true);
  t.notOk('single' in o.base.given || 'group_reporting' in o.base.given, 'run options are not job options');
});

t.test('toYaml: strings stay strings, nesting is block style', async (t) => {
  const v = { a: ['1', 'true', 'null', '- x', 'a: b', "it's"], b: { c: [{ d: 1, e: [true] }], f: {} }, 'g h': [] };
  const docs = parseAllDocuments(toYaml(v));
  t.same(docs[0]!.toJS(), v);
});
