// The fs API suite again, over NFSv4.1.
process.env.NFS_URL = `${(process.env.NFS_URL || 'nfs://127.0.0.1/export').split('?')[0]}?version=4.1`;
await import('./fs-api.test.js');
