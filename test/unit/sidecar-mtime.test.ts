// Times as WebDAV clients write them: ownCloud's seconds since the epoch
// (X-OC-Mtime, DAV:lastmodified) and HTTP dates (Windows' Win32 times,
// DAV:getlastmodified); what NFS cannot store is refused, not clamped.
import t from 'tap';
import { MS_NS, ocMtime, parseClientTime, propTime, timeProp } from '../../src/sidecar/mtime.js';

t.test('parseClientTime: seconds, HTTP dates and ISO dates', async (t) => {
  t.equal(parseClientTime('1577934245'), 1577934245_000);
  t.equal(parseClientTime(' 1577934245 '), 1577934245_000, 'surrounding white space, as XML text has it');
  t.equal(parseClientTime('1577934245.5'), 1577934245_500);
  t.equal(parseClientTime('0'), 0);
  t.equal(parseClientTime('4294967295'), 4294967295_000, 'the last second NFSv3 can hold');
  t.equal(parseClientTime('Thu, 02 Jan 2020 03:04:05 GMT'), Date.UTC(2020, 0, 2, 3, 4, 5), 'RFC 1123, as Windows sends it');
  t.equal(parseClientTime('2020-01-02T03:04:05Z'), Date.UTC(2020, 0, 2, 3, 4, 5));
});

t.test('parseClientTime: what is no time, or one NFS cannot hold', async (t) => {
  for (const v of ['', 'soon', '-5', '1e9', '4294967296', 'Mon, 01 Jan 1900 00:00:00 GMT', 'Thu, 01 Jan 2200 00:00:00 GMT', '12:00', '0x10']) {
    t.equal(parseClientTime(v), undefined, JSON.stringify(v));
  }
});

t.test('propTime reads the text of a property element', async (t) => {
  t.equal(propTime(['Thu, 02 Jan 2020 03:04:05 GMT']), Date.UTC(2020, 0, 2, 3, 4, 5));
  t.equal(propTime(['15779', '34245']), 1577934245_000, 'text split over nodes');
  t.equal(propTime([]), undefined);
  t.equal(propTime([{ ns: 'DAV:', local: 'href', attrs: [], children: ['1'] }]), undefined, 'markup is not a time');
});

t.test('ocMtime: absent, seconds, or a 400', async (t) => {
  t.equal(ocMtime(undefined), undefined);
  t.equal(ocMtime('1577934245'), 1577934245_000);
  t.equal(ocMtime(['1577934245', '1']), 1577934245_000, 'the first of repeated headers');
  for (const v of ['', 'yesterday', '-1', 'Thu, 02 Jan 2020 03:04:05 GMT', '99999999999']) {
    t.throws(() => ocMtime(v), { name: "HttpError", status: 400 }, JSON.stringify(v));
  }
});

t.test('timeProp names the settable time properties only', async (t) => {
  t.equal(timeProp('DAV:', 'getlastmodified'), 'mtime');
  t.equal(timeProp('DAV:', 'lastmodified'), 'mtime');
  t.equal(timeProp(MS_NS, 'Win32LastModifiedTime'), 'mtime');
  t.equal(timeProp(MS_NS, 'Win32LastAccessTime'), 'atime');
  t.equal(timeProp(MS_NS, 'Win32CreationTime'), undefined, 'NFS has no settable birth time');
  t.equal(timeProp(MS_NS, 'Win32FileAttributes'), undefined);
  t.equal(timeProp('urn:other', 'Win32LastModifiedTime'), undefined, 'the namespace counts');
  t.equal(timeProp('DAV:', 'creationdate'), undefined);
});
