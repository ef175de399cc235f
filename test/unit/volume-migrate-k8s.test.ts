// The many-worker migrate example: an Indexed Job whose N pods (parallelism =
// completions = --workers) run `mountless volume migrate` unprivileged, the
// URLs from a Secret; parsed with the yaml package (no kubectl here).
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parseAllDocuments } from 'yaml';

const text = await readFile(new URL('../../examples/kubernetes/volumes/migrate-job.yaml', import.meta.url), 'utf8');

t.test('migrate-job.yaml is an Indexed Job of N unprivileged migrate workers', async (t) => {
  const docs = parseAllDocuments(text);
  t.equal(docs.length, 1, 'one document');
  t.same(docs[0]!.errors, [], 'valid YAML');
  const doc = docs[0]!.toJS();
  t.equal(doc.apiVersion, 'batch/v1');
  t.equal(doc.kind, 'Job');
  t.equal(doc.spec.completionMode, 'Indexed', 'each pod gets JOB_COMPLETION_INDEX');
  const c = doc.spec.template.spec.containers[0];
  const args: string[] = c.args;
  t.same(args.slice(0, 2), ['volume', 'migrate']);
  const workers = Number(args[args.indexOf('--workers') + 1]);
  t.ok(workers > 1, `--workers ${workers}`);
  t.equal(doc.spec.completions, workers, 'completions = --workers');
  t.equal(doc.spec.parallelism, workers, 'parallelism = --workers: all at once');
  t.notOk(args.includes('--worker-index'), 'the index comes from JOB_COMPLETION_INDEX');
  t.match(args[args.indexOf('--run-id') + 1], /^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a run id');
  const pod = doc.spec.template.spec;
  t.equal(pod.securityContext.runAsNonRoot, true, 'runs as non-root');
  t.ok(pod.securityContext.runAsUser > 0);
  t.notOk(pod.hostNetwork || pod.volumes, 'no host network, no volumes');
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  t.same(c.securityContext.capabilities.drop, ['ALL'], 'every capability dropped');
  t.notOk(c.securityContext.capabilities.add, 'none added');
  t.notOk(c.securityContext.privileged, 'not privileged');
  for (const name of ['SRC_URL', 'DST_URL']) {
    t.match(c.env.find((e: { name: string }) => e.name === name), { valueFrom: { secretKeyRef: { name: 'mountless-migrate' } } }, `${name} from the Secret`);
    t.ok(args.includes(`$(${name})`), `${name} passed as an argument`);
  }
});
