// The node:fs oracle suite again, over NFSv4.1 without caches (noac, as bench --direct 1 runs): every
// path is resolved by the server, so the one-COMPOUND paths (stat, open with O_CREAT, unlink) run.
process.env.NFS_URL = `${(process.env.NFS_URL || 'nfs://127.0.0.1/export').split('?')[0]}?version=4.1&noac=1`;
await import('./oracle.test.js');
