// nfsstat4 names and their errno mapping, which goes by NAME, never by number.
import t from 'tap';
import { constants } from 'node:os';
import { NFS4_ERRNO, nfsstat4, nfsstat4Errno, nfsstat4Name } from '../../src/nfs4/index.js';

t.test('names are verbatim and round-trip with the wire values', async (t) => {
  t.equal(nfsstat4.NFS4ERR_NOTEMPTY, 66);
  t.equal(nfsstat4Name(66), 'NFS4ERR_NOTEMPTY');
  t.equal(nfsstat4Name(10029), 'NFS4ERR_SYMLINK');
  t.equal(nfsstat4Name(10052), 'NFS4ERR_BADSESSION');
  t.equal(nfsstat4Name(10094), 'NFS4ERR_OFFLOAD_NO_REQS');
  t.equal(nfsstat4Name(0), 'NFS4_OK');
  for (const [name, value] of Object.entries(nfsstat4)) t.equal(nfsstat4Name(value), name);
});

t.test('errnos by name, where wire number and errno differ', async (t) => {
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_NOTEMPTY), 'ENOTEMPTY');
  t.not(constants.errno.ENOTEMPTY, 66, 'on this platform the numbers do differ');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_NOENT), 'ENOENT');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_STALE), 'ESTALE');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_DQUOT), 'EDQUOT');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_NAMETOOLONG), 'ENAMETOOLONG');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_ACCESS), 'EACCES');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_EXIST), 'EEXIST');
});

t.test('statuses with no errno of the same name', async (t) => {
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_DENIED), 'EAGAIN', 'lock conflict, as F_SETLK');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_DELAY), 'EAGAIN');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_GRACE), 'EAGAIN');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_NOTSUPP), 'ENOTSUP');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_OP_ILLEGAL), 'ENOTSUP');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_SYMLINK), 'ELOOP');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_BADHANDLE), 'ESTALE');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_SERVERFAULT), 'EREMOTEIO');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_OPENMODE), 'EBADF');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_DEADLOCK), 'EDEADLK');
  t.equal(nfsstat4Errno(nfsstat4.NFS4ERR_BAD_STATEID), 'EIO');
});

t.test('every status has an errno; unknown values are EIO with a name', async (t) => {
  for (const [name, value] of Object.entries(nfsstat4)) {
    if (value === 0) continue;
    t.type(NFS4_ERRNO[name], 'string', `${name} is mapped`);
    t.match(NFS4_ERRNO[name], /^E[A-Z0-9]+$/);
  }
  t.equal(nfsstat4Name(12345), 'NFS4ERR_UNKNOWN_12345');
  t.equal(nfsstat4Errno(12345), 'EIO');
});
