/*
 * libnfs-bench: the libnfs side of `mountless bench --compare libnfs`.
 *
 * Runs one fio-style job through libnfs's ASYNC API (nfs_pread_async,
 * nfs_pwrite_async, nfs_stat64_async, nfs_creat_async + nfs_close_async,
 * nfs_unlink_async) with its own poll() loop on
 * nfs_get_fd / nfs_which_events / nfs_service, keeping `iodepth` operations
 * in flight per job, and prints one JSON object on stdout: operations, bytes,
 * completion-latency percentiles from a histogram with the same layout as
 * src/bench/histogram.ts, and the process's CPU time (getrusage) while
 * measuring. Built on demand by src/bench/peer-libnfs.ts:
 *
 *   gcc -O2 -o bench/peers/.build/libnfs-bench-<hash> bench/peers/libnfs-bench.c -lnfs
 *   (libnfs 7: $(pkg-config --cflags --libs libnfs) -Wl,-rpath,PREFIX/lib -DLIBNFS_API_V2_CALLS)
 *
 * Arguments (all required unless marked):
 *   --url nfs://server/path[?uid=&gid=&nfsport=&mountport=]  what to mount; when
 *        the path is below an export, the export is found by trying shorter
 *        prefixes, and the rest is prepended to --path/--dir
 *   --rw read|write|randread|randwrite|randrw|stat|create|unlink
 *   --path P        data file, relative to the URL's path (I/O workloads)
 *   --dir D         tree directory (stat, create, unlink): D/j<job>/f<i>
 *   --bs N --size N --iodepth N --numjobs N --nconnect N
 *   --runtime SECS (0: none) --ramp_time SECS --time_based 0|1
 *   --rwmixread PCT --number_ios N (0: none) --nrfiles N
 *
 * Semantics match src/bench/engine.ts: measuring starts with the first
 * completion after the ramp; without --time_based a job stops after
 * size/bs operations (nrfiles for stat) or --number_ios; nconnect is the
 * number of nfs_contexts (TCP connections), job j uses context j % nconnect
 * and its own nfsfh. Written data are random bytes; read data land in a
 * per-slot buffer, as pread() would deliver them: libnfs 6 and later (API v2,
 * built with -DLIBNFS_API_V2_CALLS) read them straight into it, older ones
 * hand over their own buffer and the driver copies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h> /* NFS_V3 */
#include <nfsc/libnfs-raw-nfs4.h> /* NFS_V4 */

/* ---- histogram: the layout of src/bench/histogram.ts ------------------- */

#define HALF 128
#define EXACT 256
#define LOG2_HALF 7
#define MAX_VALUE ((1ULL << 40) - 1)
#define BUCKETS (EXACT + (40 - LOG2_HALF - 1) * HALF)

struct hist {
	uint64_t counts[BUCKETS];
	uint64_t n, min, max;
	double sum, sumsq;
};

static int bucket_index(uint64_t v)
{
	if (v < EXACT)
		return (int)v;
	if (v > MAX_VALUE)
		v = MAX_VALUE;
	int m = 63 - __builtin_clzll(v);
	int shift = m - LOG2_HALF;
	uint64_t top = v >> shift;
	return EXACT + (shift - 1) * HALF + (int)(top - HALF);
}

static void bucket_range(int i, uint64_t *lo, uint64_t *hi)
{
	if (i < EXACT) {
		*lo = *hi = (uint64_t)i;
		return;
	}
	int shift = (i - EXACT) / HALF + 1;
	uint64_t top = HALF + (uint64_t)((i - EXACT) % HALF);
	*lo = top << shift;
	*hi = *lo + (1ULL << shift) - 1;
}

static void hist_record(struct hist *h, uint64_t v)
{
	h->counts[bucket_index(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->sum += (double)v;
	h->sumsq += (double)v * (double)v;
}

/* Nearest rank, reported as the bucket's middle clamped to [min, max]. */
static uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->n == 0)
		return 0;
	double r = ceil((p / 100) * (double)h->n);
	uint64_t rank = r < 1 ? 1 : (uint64_t)r;
	uint64_t seen = 0;
	for (int i = 0; i < BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t lo, hi;
			bucket_range(i, &lo, &hi);
			uint64_t mid = lo == hi ? lo : (lo + hi) / 2;
			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return mid;
		}
	}
	return h->max;
}

/* ---- options ------------------------------------------------------------ */

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW, RW_STAT, RW_CREATE, RW_UNLINK };

#define IS_META(rw) ((rw) == RW_STAT || (rw) == RW_CREATE || (rw) == RW_UNLINK)

static struct {
	const char *url, *path, *dir;
	enum rw rw;
	uint64_t bs, size, number_ios;
	int iodepth, numjobs, nconnect, rwmixread, time_based, nrfiles, nfsversion;
	double runtime, ramp_time;
} opt = { .bs = 4096, .iodepth = 1, .numjobs = 1, .nconnect = 1, .rwmixread = 50, .nrfiles = 1000, .nfsversion = 3 };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("libnfs-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strncmp(k, "--", 2) != 0 || v == NULL)
			die("usage: see the comment at the top of libnfs-bench.c (bad argument '%s')", k);
		k += 2;
		if (!strcmp(k, "url")) opt.url = v;
		else if (!strcmp(k, "path")) opt.path = v;
		else if (!strcmp(k, "dir")) opt.dir = v;
		else if (!strcmp(k, "bs")) opt.bs = strtoull(v, NULL, 10);
		else if (!strcmp(k, "size")) opt.size = strtoull(v, NULL, 10);
		else if (!strcmp(k, "number_ios")) opt.number_ios = strtoull(v, NULL, 10);
		else if (!strcmp(k, "iodepth")) opt.iodepth = atoi(v);
		else if (!strcmp(k, "numjobs")) opt.numjobs = atoi(v);
		else if (!strcmp(k, "nconnect")) opt.nconnect = atoi(v);
		else if (!strcmp(k, "rwmixread")) opt.rwmixread = atoi(v);
		else if (!strcmp(k, "time_based")) opt.time_based = atoi(v);
		else if (!strcmp(k, "nrfiles")) opt.nrfiles = atoi(v);
		else if (!strcmp(k, "nfsversion")) opt.nfsversion = atoi(v);
		else if (!strcmp(k, "runtime")) opt.runtime = atof(v);
		else if (!strcmp(k, "ramp_time")) opt.ramp_time = atof(v);
		else if (!strcmp(k, "rw")) {
			if (!strcmp(v, "read")) opt.rw = RW_READ;
			else if (!strcmp(v, "write")) opt.rw = RW_WRITE;
			else if (!strcmp(v, "randread")) opt.rw = RW_RANDREAD;
			else if (!strcmp(v, "randwrite")) opt.rw = RW_RANDWRITE;
			else if (!strcmp(v, "randrw")) opt.rw = RW_RANDRW;
			else if (!strcmp(v, "stat")) opt.rw = RW_STAT;
			else if (!strcmp(v, "create")) opt.rw = RW_CREATE;
			else if (!strcmp(v, "unlink")) opt.rw = RW_UNLINK;
			else die("unsupported --rw %s", v);
		} else
			die("unknown option --%s", k);
	}
	if (!opt.url)
		die("--url is required");
	if (IS_META(opt.rw) ? !opt.dir : !opt.path)
		die(IS_META(opt.rw) ? "--dir is required for stat, create and unlink" : "--path is required");
	if (opt.nfsversion != 3 && opt.nfsversion != 4)
		die("--nfsversion must be 3 or 4");
	if (opt.bs == 0 || opt.iodepth < 1 || opt.numjobs < 1 || opt.nconnect < 1 || opt.nrfiles < 1)
		die("bs, iodepth, numjobs, nconnect and nrfiles must be positive");
	if (!IS_META(opt.rw) && opt.size < opt.bs)
		die("--size must be at least --bs");
}

/* ---- the run ------------------------------------------------------------ */

struct job {
	struct nfs_context *nfs;
	struct nfsfh *fh;
	uint64_t cursor;  /* next block (sequential) or file index (stat) */
	uint64_t counted; /* operations started while measuring */
	char *wbuf;       /* written data, shared by the job's slots */
	char **paths;     /* stat: the job's nrfiles paths */
};

struct slot {
	struct job *job;
	int write;
	uint64_t t0;
	char *buf;
};

static struct nfs_context **ctxs;
static struct job *jobs;
static struct hist hread, hwrite;
static uint64_t rbytes, wbytes, blocks, limit;
static uint64_t start_ns, ramp_end, measure_start, deadline, last_ns; /* deadline 0: none */
static int measuring, stopped, failed, inflight;
static struct rusage ru0;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: uniform enough for offsets and the read/write mix. */
static double rand01(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

static void begin(uint64_t t)
{
	measuring = 1;
	measure_start = t;
	last_ns = t;
	if (opt.runtime > 0)
		deadline = t + (uint64_t)(opt.runtime * 1e9);
	getrusage(RUSAGE_SELF, &ru0);
}

static void issue(struct slot *s);

static void complete(struct slot *s, uint64_t t1, uint64_t bytes)
{
	if (measuring) {
		if (s->write) {
			hist_record(&hwrite, t1 - s->t0);
			wbytes += bytes;
		} else {
			hist_record(&hread, t1 - s->t0);
			rbytes += bytes;
		}
		if (t1 > last_ns)
			last_ns = t1;
	} else if (t1 >= ramp_end) {
		begin(t1);
	}
	if (deadline && t1 >= deadline)
		stopped = 1;
}

static void io_cb(int status, struct nfs_context *nfs, void *data, void *private_data)
{
	struct slot *s = private_data;
	uint64_t t1 = now_ns();
	(void)nfs;
	inflight--;
	if (status < 0) {
		fprintf(stderr, "libnfs-bench: %s failed: %s\n", s->write ? "pwrite" : "pread", data ? (char *)data : "?");
		failed = stopped = 1;
		return;
	}
#ifndef LIBNFS_API_V2_CALLS
	/* libnfs before 6 hands over its own buffer; 6 on read into s->buf already. */
	if (!s->write && data && status > 0)
		memcpy(s->buf, data, (size_t)status);
#endif
	complete(s, t1, (uint64_t)status);
	issue(s);
}

static void stat_cb(int status, struct nfs_context *nfs, void *data, void *private_data)
{
	struct slot *s = private_data;
	uint64_t t1 = now_ns();
	(void)nfs;
	inflight--;
	if (status < 0) {
		fprintf(stderr, "libnfs-bench: %s failed: %s\n", opt.rw == RW_CREATE ? "close" : opt.rw == RW_UNLINK ? "unlink" : "stat", data ? (char *)data : "?");
		failed = stopped = 1;
		return;
	}
	complete(s, t1, 0);
	issue(s);
}

/* create: the file is open once CREATE answered; close it (no data: no RPC), as open('w') + close does. */
static void creat_cb(int status, struct nfs_context *nfs, void *data, void *private_data)
{
	struct slot *s = private_data;
	if (status < 0) {
		inflight--;
		fprintf(stderr, "libnfs-bench: create failed: %s\n", data ? (char *)data : "?");
		failed = stopped = 1;
		return;
	}
	if (nfs_close_async(nfs, data, stat_cb, s) != 0) {
		inflight--;
		fprintf(stderr, "libnfs-bench: could not queue a close: %s\n", nfs_get_error(nfs));
		failed = stopped = 1;
	}
}

static void issue(struct slot *s)
{
	struct job *j = s->job;
	int rc;
	if (stopped)
		return;
	if (measuring) {
		if (j->counted >= limit)
			return;
		j->counted++;
	}
	if (IS_META(opt.rw)) {
		uint64_t i = j->cursor;
		if (i >= (uint64_t)opt.nrfiles) {
			/* Only stat can go round again: a created or unlinked file is done with. */
			if (!opt.time_based || opt.rw != RW_STAT)
				return;
			i = 0;
		}
		j->cursor = i + 1;
		s->write = opt.rw != RW_STAT;
		s->t0 = now_ns();
		if (opt.rw == RW_CREATE)
			rc = nfs_creat_async(j->nfs, j->paths[i], 0644, creat_cb, s);
		else if (opt.rw == RW_UNLINK)
			rc = nfs_unlink_async(j->nfs, j->paths[i], stat_cb, s);
		else
			rc = nfs_stat64_async(j->nfs, j->paths[i], stat_cb, s);
	} else {
		uint64_t block;
		if (opt.rw == RW_RANDREAD || opt.rw == RW_RANDWRITE || opt.rw == RW_RANDRW) {
			block = (uint64_t)(rand01() * (double)blocks);
			if (block >= blocks)
				block = blocks - 1;
		} else {
			block = j->cursor;
			j->cursor = block + 1 == blocks ? 0 : block + 1;
		}
		s->write = opt.rw == RW_WRITE || opt.rw == RW_RANDWRITE || (opt.rw == RW_RANDRW && rand01() * 100 >= opt.rwmixread);
		s->t0 = now_ns();
#ifdef LIBNFS_API_V2_CALLS
		if (s->write)
			rc = nfs_pwrite_async(j->nfs, j->fh, j->wbuf, opt.bs, block * opt.bs, io_cb, s);
		else
			rc = nfs_pread_async(j->nfs, j->fh, s->buf, opt.bs, block * opt.bs, io_cb, s);
#else
		if (s->write)
			rc = nfs_pwrite_async(j->nfs, j->fh, block * opt.bs, opt.bs, j->wbuf, io_cb, s);
		else
			rc = nfs_pread_async(j->nfs, j->fh, block * opt.bs, opt.bs, io_cb, s);
#endif
	}
	if (rc != 0) {
		fprintf(stderr, "libnfs-bench: could not queue a call: %s\n", nfs_get_error(j->nfs));
		failed = stopped = 1;
		return;
	}
	inflight++;
}

static struct nfs_context *new_context(const char *url, char **server, char **path)
{
	struct nfs_context *nfs = nfs_init_context();
	if (!nfs)
		die("nfs_init_context failed");
	struct nfs_url *u = nfs_parse_url_dir(nfs, url); /* also applies uid=, gid=, nfsport=, mountport= */
	if (!u)
		die("bad URL %s: %s", url, nfs_get_error(nfs));
	*server = strdup(u->server);
	*path = strdup(u->path && *u->path ? u->path : "/");
	nfs_destroy_url(u);
	/* libnfs speaks NFSv4.0 only: a 4.1/4.2 run of mountless is compared with it */
	nfs_set_version(nfs, opt.nfsversion == 4 ? NFS_V4 : NFS_V3);
	nfs_set_dircache(nfs, 0); /* mountless has no caches yet: compare uncached with uncached */
	return nfs;
}

/*
 * Mounts the URL's path, or when `known_export` is NULL the longest prefix
 * of it that the server accepts as an export (as mountless does). Returns the
 * part of the path below the export ("" or "/a/b"); *export_out gets the export.
 */
static char *mount_one(struct nfs_context **out, const char *url, const char *known_export, char **export_out)
{
	char *server, *path;
	struct nfs_context *nfs = new_context(url, &server, &path);
	size_t len = known_export ? strlen(known_export) : strlen(path);
	for (;;) {
		char *exp = strndup(path, len ? len : 1);
		if (nfs_mount(nfs, server, exp) == 0) {
			*out = nfs;
			char *rest = strdup(path + len);
			if (export_out)
				*export_out = exp;
			else
				free(exp);
			free(server);
			free(path);
			return rest;
		}
		if (known_export || len <= 1)
			die("mount %s:%s failed: %s", server, exp, nfs_get_error(nfs));
		free(exp);
		nfs_destroy_context(nfs); /* a failed mount may leave the context unusable */
		char *s2, *p2;
		nfs = new_context(url, &s2, &p2);
		free(s2);
		free(p2);
		while (len > 1 && path[len - 1] == '/')
			len--;
		while (len > 1 && path[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* and the '/' before the component */
	}
}

static void run_loop(void)
{
	struct pollfd *pfd = calloc((size_t)opt.nconnect, sizeof(*pfd));
	while (inflight > 0) {
		for (int k = 0; k < opt.nconnect; k++) {
			pfd[k].fd = nfs_get_fd(ctxs[k]);
			pfd[k].events = (short)nfs_which_events(ctxs[k]);
			pfd[k].revents = 0;
		}
		if (poll(pfd, (nfds_t)opt.nconnect, 1000) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (int k = 0; k < opt.nconnect; k++) {
			if (pfd[k].revents && nfs_service(ctxs[k], pfd[k].revents) < 0)
				die("connection %d failed: %s", k, nfs_get_error(ctxs[k]));
		}
	}
	free(pfd);
}

static void print_dir(const char *name, const struct hist *h, uint64_t bytes)
{
	static const double pcts[] = { 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99 };
	double mean = h->n ? h->sum / (double)h->n : 0;
	double var = h->n > 1 ? h->sumsq / (double)h->n - mean * mean : 0;
	printf("\"%s\":{\"ios\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"clat\":{\"min\":%" PRIu64 ",\"max\":%" PRIu64 ",\"mean\":%.3f,\"stddev\":%.3f,\"percentile\":{",
	       name, h->n, bytes, h->min, h->max, mean, var > 0 ? sqrt(var) : 0.0);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		printf("%s\"%.6f\":%" PRIu64, i ? "," : "", pcts[i], hist_percentile(h, pcts[i]));
	printf("}}}");
}

static uint64_t tv_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000ULL + (uint64_t)tv.tv_usec;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	rng ^= now_ns() ^ ((uint64_t)getpid() << 32);

	ctxs = calloc((size_t)opt.nconnect, sizeof(*ctxs));
	char *export0;
	char *rest = mount_one(&ctxs[0], opt.url, NULL, &export0);
	/* Every further context mounts the export the first one found. */
	for (int k = 1; k < opt.nconnect; k++)
		free(mount_one(&ctxs[k], opt.url, export0, NULL));

	jobs = calloc((size_t)opt.numjobs, sizeof(*jobs));
	int writes = opt.rw == RW_WRITE || opt.rw == RW_RANDWRITE || opt.rw == RW_RANDRW;
	for (int j = 0; j < opt.numjobs; j++) {
		struct job *jb = &jobs[j];
		jb->nfs = ctxs[j % opt.nconnect];
		if (IS_META(opt.rw)) {
			jb->paths = calloc((size_t)opt.nrfiles, sizeof(char *));
			for (int i = 0; i < opt.nrfiles; i++) {
				if (asprintf(&jb->paths[i], "%s%s/j%d/f%d", rest, opt.dir, j, i) < 0)
					die("out of memory");
			}
		} else {
			char *p;
			if (asprintf(&p, "%s%s", rest, opt.path) < 0)
				die("out of memory");
			if (nfs_open(jb->nfs, p, writes ? O_RDWR : O_RDONLY, &jb->fh) != 0)
				die("open %s: %s", p, nfs_get_error(jb->nfs));
			free(p);
			jb->wbuf = malloc(opt.bs);
			for (uint64_t i = 0; i < opt.bs; i++)
				jb->wbuf[i] = (char)(rand01() * 256);
		}
	}
	blocks = IS_META(opt.rw) ? 0 : opt.size / opt.bs;
	if (opt.number_ios)
		limit = opt.number_ios;
	else if (IS_META(opt.rw))
		limit = opt.time_based && opt.rw == RW_STAT ? UINT64_MAX : (uint64_t)opt.nrfiles;
	else
		limit = opt.time_based ? UINT64_MAX : blocks;

	int nslots = opt.numjobs * opt.iodepth;
	struct slot *slots = calloc((size_t)nslots, sizeof(*slots));
	start_ns = now_ns();
	ramp_end = start_ns + (uint64_t)(opt.ramp_time * 1e9);
	if (opt.ramp_time > 0) {
		if (opt.runtime > 0)
			deadline = ramp_end + (uint64_t)(opt.runtime * 1e9);
	} else {
		begin(start_ns);
	}
	for (int i = 0; i < nslots; i++) {
		slots[i].job = &jobs[i / opt.iodepth];
		slots[i].buf = IS_META(opt.rw) ? NULL : malloc(opt.bs);
		issue(&slots[i]);
	}
	run_loop();
	struct rusage ru1;
	getrusage(RUSAGE_SELF, &ru1);
	if (failed)
		return 1;

	printf("{\"peer\":\"libnfs\",\"runtime_ns\":%" PRIu64 ",", measuring ? last_ns - measure_start : 0);
	print_dir("read", &hread, rbytes);
	printf(",");
	print_dir("write", &hwrite, wbytes);
	printf(",\"cpu\":{\"user_us\":%" PRIu64 ",\"sys_us\":%" PRIu64 "},\"rsize\":%" PRIu64 ",\"wsize\":%" PRIu64 "}\n",
	       measuring ? tv_us(ru1.ru_utime) - tv_us(ru0.ru_utime) : 0,
	       measuring ? tv_us(ru1.ru_stime) - tv_us(ru0.ru_stime) : 0,
	       (uint64_t)nfs_get_readmax(ctxs[0]), (uint64_t)nfs_get_writemax(ctxs[0]));
	fflush(stdout);

	for (int j = 0; j < opt.numjobs; j++) {
		if (jobs[j].fh)
			nfs_close(jobs[j].nfs, jobs[j].fh);
	}
	for (int k = 0; k < opt.nconnect; k++)
		nfs_destroy_context(ctxs[k]);
	return 0;
}
