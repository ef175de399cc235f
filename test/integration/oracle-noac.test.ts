// The node:fs oracle suite again, over NFSv3 without caches (noac, as bench --direct 1 runs): every
// path is walked with the server, LOOKUP by LOOKUP.
process.env.NFS_URL = `${(process.env.NFS_URL || 'nfs://127.0.0.1/export').split('?')[0]}?version=3&noac=1`;
await import('./oracle.test.js');
