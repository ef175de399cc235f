// The volume Job example: valid YAML, a batch/v1 Job whose container runs
// `mountless volume create` without privileges, NFS_URL from a Secret.
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { parse } from 'yaml';

const doc = parse(await readFile(new URL('../../examples/kubernetes/volumes/volume-job.yaml', import.meta.url), 'utf8'));

t.test('volume-job.yaml is an unprivileged Job running mountless volume create', async (t) => {
  t.equal(doc.apiVersion, 'batch/v1');
  t.equal(doc.kind, 'Job');
  const spec = doc.spec.template.spec;
  t.equal(spec.securityContext.runAsNonRoot, true, 'runs as non-root');
  t.notOk(spec.hostNetwork || spec.volumes?.some((v: { hostPath?: unknown }) => v.hostPath), 'no host access');
  const c = spec.containers[0];
  t.same(c.args.slice(0, 3), ['volume', 'create', 'shop/data-web-0']);
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  t.same(c.securityContext.capabilities.drop, ['ALL'], 'every capability dropped');
  t.notOk(c.securityContext.privileged, 'not privileged');
  t.match(c.env.find((e: { name: string }) => e.name === 'NFS_URL'), { valueFrom: { secretKeyRef: { name: 'mountless-nas' } } }, 'NFS_URL from the Secret');
});
