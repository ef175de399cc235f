// The node:fs oracle suite again, over NFSv4.0 without caches (noac): opens by name with
// OPEN_CONFIRM, the directory walked in the OPEN's own COMPOUND.
process.env.NFS_URL = `${(process.env.NFS_URL || 'nfs://127.0.0.1/export').split('?')[0]}?version=4.0&noac=1`;
await import('./oracle.test.js');
