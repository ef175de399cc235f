// The Kubernetes examples (examples/kubernetes/*.yaml) parse, carry the fields
// Kubernetes requires, ask for no privileges or host access, and configure
// the sidecar in a way `mountless serve` accepts (the same parser and config
// resolution the command uses, with the Secret's values filled in).
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs } from '../../src/cli/args.js';
import { serve } from '../../src/cli/serve.js';
import { resolveConfig } from '../../src/sidecar/config.js';

const DIR = fileURLToPath(new URL('../../examples/kubernetes/', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML
type Obj = Record<string, any>;

async function loadAll(): Promise<Array<{ file: string; doc: Obj }>> {
  // yaml is a dependency of tap; the lead is asked to declare it as a devDependency.
  const { parseAllDocuments } = await import('yaml');
  const out: Array<{ file: string; doc: Obj }> = [];
  for (const f of (await readdir(DIR)).filter((n) => n.endsWith('.yaml')).sort()) {
    for (const d of parseAllDocuments(await readFile(DIR + f, 'utf8'))) {
      if (d.errors.length) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      const doc = d.toJS() as Obj | null;
      if (doc) out.push({ file: f, doc });
    }
  }
  return out;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function podSpecOf(doc: Obj): Obj | undefined {
  if (doc.kind === 'Pod') return doc.spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(doc.kind)) return doc.spec?.template?.spec;
  return undefined;
}

function walk(x: unknown, fn: (key: string, value: unknown) => void): void {
  const stack: unknown[] = [x];
  while (stack.length) {
    const v = stack.pop();
    if (v && typeof v === 'object') {
      for (const [k, val] of Object.entries(v)) {
        fn(k, val);
        stack.push(val);
      }
    }
  }
}

t.test('every manifest has the fields Kubernetes requires', async (t) => {
  const docs = await loadAll();
  t.ok(docs.length >= 5, `${docs.length} objects`);
  for (const { file, doc } of docs) {
    const id = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    t.type(doc.apiVersion, 'string', `${id}: apiVersion`);
    t.type(doc.kind, 'string', `${id}: kind`);
    t.match(doc.metadata?.name, DNS_LABEL, `${id}: metadata.name is a DNS label`);
    const spec = podSpecOf(doc);
    if (doc.kind === 'Deployment') {
      t.same(doc.spec.selector.matchLabels, Object.fromEntries(Object.entries(doc.spec.template.metadata.labels).filter(([k]) => k in doc.spec.selector.matchLabels)), `${id}: the selector matches the template's labels`);
    }
    if (!spec) continue;
    const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Obj[];
    t.ok((spec.containers ?? []).length > 0, `${id}: has containers`);
    for (const c of all) {
      t.match(c.name, DNS_LABEL, `${id}: container name`);
      t.type(c.image, 'string', `${id}/${c.name}: image`);
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const port = c[probe]?.httpGet?.port;
        if (typeof port === 'string') t.ok((c.ports ?? []).some((p: Obj) => p.name === port), `${id}/${c.name}: ${probe} port '${port}' is declared`);
      }
    }
    t.notOk(spec.hostNetwork || spec.hostPID || spec.hostIPC, `${id}: no host namespaces`);
    t.notOk((spec.volumes ?? []).some((v: Obj) => v.hostPath || v.csi || v.nfs), `${id}: no hostPath, CSI or kernel NFS volumes`);
    walk(spec, (k, v) => {
      if (k === 'privileged') t.not(v, true, `${id}: no privileged container`);
      if (k === 'allowPrivilegeEscalation') t.equal(v, false, `${id}: no privilege escalation`);
      if (k === 'add') t.fail(`${id}: adds capabilities ${JSON.stringify(v)}`);
    });
  }
});

t.test('the sidecars are configured as mountless serve accepts, from the Secret', async (t) => {
  const docs = await loadAll();
  const secret = docs.find((d) => d.doc.kind === 'Secret')!.doc;
  const values: Record<string, string> = secret.stringData;
  t.ok(values.url?.startsWith('nfs://'), 'the Secret holds an nfs:// URL');
  const sidecars: Array<{ id: string; c: Obj; spec: Obj; doc: Obj }> = [];
  for (const { file, doc } of docs) {
    const spec = podSpecOf(doc);
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as Obj[]) {
      if (c.image?.startsWith('mountless')) sidecars.push({ id: `${file}: ${doc.metadata.name}/${c.name}`, c, spec: spec!, doc });
    }
  }
  t.equal(sidecars.length, 2, 'one sidecar per workload');
  for (const { id, c, spec } of sidecars) {
    t.equal(c.restartPolicy, 'Always', `${id}: a native sidecar (init container, restartPolicy Always)`);
    t.ok((spec.initContainers ?? []).includes(c), `${id}: listed among initContainers`);
    const env: NodeJS.ProcessEnv = {};
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        t.equal(ref.name, secret.metadata.name, `${id}: ${e.name} comes from the Secret`);
        t.ok(ref.key in values, `${id}: the Secret has key ${ref.key}`);
        env[e.name] = values[ref.key];
      } else env[e.name] = e.value;
    }
    t.equal(c.args[0], 'serve');
    const args = parseCommandArgs(c.args.slice(1), serve.options);
    const config = await resolveConfig(args.flags, env, async () => '');
    t.equal(config.url, values.url, `${id}: the URL from the Secret`);
    t.equal(config.listen.host, '127.0.0.1', `${id}: data port on loopback only`);
    t.ok(config.adminListen, `${id}: an admin address for the probes`);
    t.equal(c.startupProbe?.httpGet?.path, '/readyz', `${id}: started when /readyz passes`);
    t.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    t.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    const adminPort = (c.ports as Obj[]).find((p) => p.name === c.readinessProbe.httpGet.port)?.containerPort;
    t.equal(adminPort, config.adminListen!.port, `${id}: the probes hit the admin port`);
    if (c.args.includes('--read-only')) t.equal(config.readOnly, true);
    else t.ok(config.token, `${id}: a writable sidecar has a token`);
  }
});

t.test('nginx proxies to the read-only sidecar, and the Service reaches nginx', async (t) => {
  const docs = await loadAll();
  const cm = docs.find((d) => d.doc.kind === 'ConfigMap')!.doc;
  const conf: string = cm.data['default.conf'];
  const dep = docs.find((d) => d.doc.kind === 'Deployment')!.doc;
  const side = (dep.spec.template.spec.initContainers as Obj[]).find((c) => c.image.startsWith('mountless'))!;
  const cfg = await resolveConfig(parseCommandArgs(side.args.slice(1), serve.options).flags, { MOUNTLESS_URL: 'nfs://x/y' }, async () => '');
  t.ok(cfg.readOnly, 'the site sidecar is read-only');
  const targets = [...conf.matchAll(/proxy_pass http:\/\/([\d.]+):(\d+);/g)].map((m) => `${m[1]}:${m[2]}`);
  t.ok(targets.length >= 1);
  for (const tgt of targets) t.equal(tgt, `${cfg.listen.host}:${cfg.listen.port}`, 'proxy_pass points at the sidecar');
  t.match(conf, /rewrite \^\(\.\*\)\/\$ \$1\/index\.html break;/, 'directories served as index.html');
  const nginx = (dep.spec.template.spec.containers as Obj[]).find((c) => c.name === 'nginx')!;
  t.match(conf, new RegExp(`listen ${nginx.ports[0].containerPort};`), 'nginx listens on its declared port');
  t.ok((nginx.volumeMounts as Obj[]).some((m) => dep.spec.template.spec.volumes.some((v: Obj) => v.name === m.name && v.configMap?.name === cm.metadata.name)), 'the ConfigMap is mounted');
  const svc = docs.find((d) => d.doc.kind === 'Service')!.doc;
  t.same(svc.spec.selector, dep.spec.selector.matchLabels, 'the Service selects the Deployment');
  t.ok((nginx.ports as Obj[]).some((p) => p.name === svc.spec.ports[0].targetPort), 'targetPort names the nginx port');
});
