/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "tf_capture.h"
#include "capture_private.h"
#include "tf_sandbox.h"
#include "tf_util.h"
#include "file_private.h"

#define SNAPLEN_DEFAULT   256
/* Ethernet + the longest IPv4 header + the fixed TCP header, with room. */
#define SNAPLEN_MIN       128
#define SNAPLEN_MAX       262144          /* libpcap's MAXIMUM_SNAPLEN */
#define BUFSIZE_DEFAULT   (8 << 20)
#define BUFSIZE_MIN       (64 << 10)
/* Sane limits: a case that captures more than this is broken, and failing
 * with -ENOBUFS beats swapping the machine to death. */
#define MAX_FRAMES        (16u << 20)
#define MAX_BYTES         ((size_t)1 << 30)

#define NSEC_PER_SEC      1000000000LL

enum state { ST_CREATED, ST_ACTIVE, ST_FAILED, ST_OFFLINE };

struct frame {
	int64_t  ts_ns;
	size_t   off;                  /* into tf_capture.data */
	uint32_t caplen, wirelen;
};

struct tf_capture {
	enum state state;
	tf_host *host;
	pcap_t *p;                     /* live handle, or a dead one offline (for pcap_compile) */
	int linktype;
	int snaplen;
	int bufsize;
	char *filter;                  /* BPF text, compiled at activate (live) */
	struct bpf_program prog;       /* offline only: applied on inject/load */
	bool have_prog;
	int cb_err;                    /* error raised inside the pcap callback */
	int n_new;                     /* decoded packets added by the running read */
	char err[PCAP_ERRBUF_SIZE];

	struct frame *frames;          /* every frame, IPv4 or not, for save() */
	size_t n_frames, cap_frames;
	uint8_t *data;
	size_t n_data, cap_data;
	tf_pkt *pkts;                  /* the decoded IPv4 ones, capture order */
	size_t n_pkts, cap_pkts;
};

/* ---------------------------------------------------------------- errors */

static int pcap_errno(int r)
{
	switch (r) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		return -EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		return -ENETDOWN;
	case PCAP_ERROR_ACTIVATED:
		return -EBUSY;
	case PCAP_ERROR_RFMON_NOTSUP:
	case PCAP_ERROR_NOT_RFMON:
	case PCAP_ERROR_CANTSET_TSTAMP_TYPE:
	case PCAP_ERROR_TSTAMP_PRECISION_NOTSUP:
#ifdef PCAP_ERROR_CAPTURE_NOTSUP
	case PCAP_ERROR_CAPTURE_NOTSUP:
#endif
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

static void set_err(tf_capture *c, const char *msg)
{
	snprintf(c->err, sizeof(c->err), "%s", msg ? msg : "");
}

/* Keep libpcap's own text, which names the failing syscall; fall back to
 * the generic status text when it left none. */
static int pcap_fail(tf_capture *c, int r)
{
	const char *t = c->p ? pcap_geterr(c->p) : NULL;

	set_err(c, t && *t ? t : pcap_statustostr(r));
	return pcap_errno(r);
}

const char *tf_capture_error(const tf_capture *c)
{
	return c ? c->err : "";
}

/* ------------------------------------------------------------ O_CLOEXEC */

/*
 * libpcap opens its eventfd (pcap_create) and its AF_PACKET socket
 * (pcap_activate) without close-on-exec, and only the socket is reachable
 * through its API.  So: list the fds before calling it, and mark every fd
 * that appeared meanwhile.
 */
struct fdset { int *fd; size_t n; };

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int fdset_take(struct fdset *s)
{
	DIR *d = opendir("/proc/self/fd");  /* O_CLOEXEC, glibc's own */
	struct dirent *de;
	size_t cap = 0;

	s->fd = NULL;
	s->n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		long v;
		int *nf;

		if (tf_parse_long(de->d_name, 0, INT_MAX, &v) < 0 || v == dirfd(d))
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			nf = realloc(s->fd, cap * sizeof(*nf));
			if (!nf) {
				closedir(d);
				free(s->fd);
				s->fd = NULL;
				return -ENOMEM;
			}
			s->fd = nf;
		}
		s->fd[s->n++] = (int)v;
	}
	closedir(d);
	if (s->n)
		qsort(s->fd, s->n, sizeof(*s->fd), cmp_int);
	return 0;
}

static void fdset_cloexec_new(const struct fdset *before)
{
	struct fdset now;

	if (fdset_take(&now) < 0)
		return;
	for (size_t i = 0; i < now.n; i++) {
		int fd = now.fd[i], fl;

		if (before->n && bsearch(&fd, before->fd, before->n, sizeof(int), cmp_int))
			continue;
		fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	free(now.fd);
}

/* --------------------------------------------------------------- storage */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* Store one frame (cut at snaplen) and its decoding.  Returns 1 if it is
 * an IPv4 packet, 0 if stored raw only, or -errno. */
static int add_frame(tf_capture *c, const uint8_t *f, size_t caplen, size_t wirelen, int64_t ts_ns)
{
	struct frame *fr;
	tf_pkt p;
	int r, ipv4 = 0;

	if (caplen > (size_t)c->snaplen)
		caplen = (size_t)c->snaplen;
	if (wirelen < caplen)
		wirelen = caplen;
	if (wirelen > UINT32_MAX)
		return -EINVAL;
	if (c->n_frames >= MAX_FRAMES || c->n_data + caplen > MAX_BYTES)
		return -ENOBUFS;
	r = grow((void **)&c->frames, &c->cap_frames, c->n_frames + 1, sizeof(*c->frames));
	if (r < 0)
		return r;
	r = grow((void **)&c->data, &c->cap_data, c->n_data + caplen, 1);
	if (r < 0)
		return r;
	if (tf__decode(f, caplen, wirelen, c->linktype, ts_ns, &p) == 0) {
		r = grow((void **)&c->pkts, &c->cap_pkts, c->n_pkts + 1, sizeof(*c->pkts));
		if (r < 0)
			return r;
		c->pkts[c->n_pkts++] = p;
		ipv4 = 1;
	}
	fr = &c->frames[c->n_frames++];
	fr->ts_ns = ts_ns;
	fr->off = c->n_data;
	fr->caplen = (uint32_t)caplen;
	fr->wirelen = (uint32_t)wirelen;
	/* An empty frame (caplen 0, which a file can hold) may be the
	 * first: data is still NULL then, and memcpy(NULL, ..., 0) is UB. */
	if (caplen) {
		memcpy(c->data + c->n_data, f, caplen);
		c->n_data += caplen;
	}
	return ipv4;
}

/*
 * A record's time in ns (nanosecond precision: tv_usec holds nanoseconds).
 * A file can hold times int64 ns cannot: pcapng's 64-bit count in units of
 * its if_tsresol (10^0 s makes tv_sec up to 2^64), or a nanosecond field
 * of 1 s or more.  Those are -ERANGE, not an overflow.
 */
static int ts_ns_of(const struct pcap_pkthdr *h, int64_t *ns)
{
	if (h->ts.tv_sec < 0 || h->ts.tv_sec >= INT64_MAX / NSEC_PER_SEC ||
	    h->ts.tv_usec < 0 || h->ts.tv_usec >= NSEC_PER_SEC)
		return -ERANGE;
	*ns = (int64_t)h->ts.tv_sec * NSEC_PER_SEC + h->ts.tv_usec;
	return 0;
}

static void handler(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	tf_capture *c = (tf_capture *)user;
	int64_t ts;
	int r;

	if (c->cb_err)
		return;
	r = ts_ns_of(h, &ts);
	if (r == 0)
		r = add_frame(c, bytes, h->caplen, h->len, ts);
	if (r < 0) {
		c->cb_err = r;
		pcap_breakloop(c->p);
		return;
	}
	c->n_new += r;
}

/* ------------------------------------------------------------- life cycle */

static tf_capture *capture_alloc(void)
{
	tf_capture *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->snaplen = SNAPLEN_DEFAULT;
	c->bufsize = BUFSIZE_DEFAULT;
	c->linktype = DLT_EN10MB;
	return c;
}

struct create_args {
	tf_capture *c;
	const char *ifname;
};

static int do_create(void *arg)
{
	struct create_args *a = arg;
	char eb[PCAP_ERRBUF_SIZE] = "";

	a->c->p = pcap_create(a->ifname, eb);
	if (!a->c->p) {
		set_err(a->c, eb);
		return -ENOMEM;
	}
	return 0;
}

int tf_capture_new(tf_host *h, const char *ifname, tf_capture **ret)
{
	struct create_args a;
	struct fdset before;
	tf_capture *c;
	bool snap;
	int r;

	if (!h || !ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || !ret)
		return -EINVAL;
	c = capture_alloc();
	if (!c)
		return -ENOMEM;
	c->host = h;
	a = (struct create_args){ c, ifname };
	snap = fdset_take(&before) == 0;
	r = tf_host_run(h, do_create, &a);
	if (snap)
		fdset_cloexec_new(&before);
	free(before.fd);
	if (r < 0)
		goto fail;
	/* Immediate mode: without it TPACKET_V3 hands blocks over only when
	 * full or on timeout, and a read would miss the last packets. */
	if ((r = pcap_set_snaplen(c->p, c->snaplen)) != 0 ||
	    (r = pcap_set_immediate_mode(c->p, 1)) != 0 ||
	    (r = pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO)) != 0 ||
	    (r = pcap_set_buffer_size(c->p, c->bufsize)) != 0) {
		r = pcap_fail(c, r);
		goto fail;
	}
	c->state = ST_CREATED;
	*ret = c;
	return 0;
fail:
	tf_capture_free(c);
	return r;
}

static int open_dead(tf_capture *c, int linktype)
{
	pcap_t *d = pcap_open_dead_with_tstamp_precision(linktype, c->snaplen,
	                                                 PCAP_TSTAMP_PRECISION_NANO);
	if (!d)
		return -ENOMEM;
	if (c->p)
		pcap_close(c->p);
	c->p = d;
	c->linktype = linktype;
	return 0;
}

int tf_capture_new_offline(tf_capture **ret)
{
	tf_capture *c;
	int r;

	if (!ret)
		return -EINVAL;
	c = capture_alloc();
	if (!c)
		return -ENOMEM;
	r = open_dead(c, DLT_EN10MB);
	if (r < 0) {
		free(c);
		return r;
	}
	c->state = ST_OFFLINE;
	*ret = c;
	return 0;
}

/* Offline: compile the filter for the current link type, so that a syntax
 * error shows at once and inject/load can apply it. */
static int offline_compile(tf_capture *c)
{
	struct bpf_program prog;

	if (!c->filter)
		return 0;
	if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		set_err(c, pcap_geterr(c->p));
		return -EINVAL;
	}
	if (c->have_prog)
		pcap_freecode(&c->prog);
	c->prog = prog;
	c->have_prog = true;
	return 0;
}

int tf_capture_set_filter(tf_capture *c, const char *bpf)
{
	char *old, *dup;
	int r;

	if (!c || !bpf)
		return -EINVAL;
	if (c->state != ST_CREATED && c->state != ST_OFFLINE)
		return -EBUSY;
	dup = strdup(bpf);
	if (!dup)
		return -ENOMEM;
	old = c->filter;
	c->filter = dup;
	if (c->state == ST_OFFLINE) {
		r = offline_compile(c);
		if (r < 0) {
			c->filter = old;
			free(dup);
			return r;
		}
	}
	free(old);
	return 0;
}

int tf_capture_set_snaplen(tf_capture *c, int snaplen)
{
	int r;

	if (!c || snaplen < SNAPLEN_MIN || snaplen > SNAPLEN_MAX)
		return -EINVAL;
	if (c->state == ST_CREATED) {
		r = pcap_set_snaplen(c->p, snaplen);
		if (r != 0)
			return pcap_fail(c, r);
	} else if (c->state != ST_OFFLINE)
		return -EBUSY;
	c->snaplen = snaplen;
	return 0;
}

int tf_capture_set_buffer_size(tf_capture *c, int bytes)
{
	int r;

	if (!c || bytes < BUFSIZE_MIN)
		return -EINVAL;
	if (c->state == ST_OFFLINE)
		return 0;  /* no ring: nothing to size */
	if (c->state != ST_CREATED)
		return -EBUSY;
	r = pcap_set_buffer_size(c->p, bytes);
	if (r != 0)
		return pcap_fail(c, r);
	c->bufsize = bytes;
	return 0;
}

static int do_activate(void *arg)
{
	tf_capture *c = arg;
	int r = pcap_activate(c->p);

	/* > 0 is a warning (e.g. promiscuous mode not supported): capturing. */
	if (r > 0) {
		set_err(c, pcap_geterr(c->p));
		return 0;
	}
	return r < 0 ? pcap_fail(c, r) : 0;
}

int tf_capture_activate(tf_capture *c)
{
	struct bpf_program prog;
	struct fdset before;
	bool snap;
	int r, lt;

	if (!c)
		return -EINVAL;
	if (c->state != ST_CREATED)
		return c->state == ST_ACTIVE ? -EBUSY : -EINVAL;
	c->state = ST_FAILED;  /* until the end: libpcap cannot retry an activation */
	snap = fdset_take(&before) == 0;
	/* In the host: the AF_PACKET socket is created and bound to the
	 * interface there, and stays in that namespace for good. */
	r = tf_host_run(c->host, do_activate, c);
	if (snap)
		fdset_cloexec_new(&before);
	free(before.fd);
	if (r < 0)
		return r;
	/* Without /proc, at least the socket. */
	if (pcap_fileno(c->p) >= 0)
		(void)fcntl(pcap_fileno(c->p), F_SETFD, FD_CLOEXEC);

	lt = pcap_datalink(c->p);
	if (!tf__linktype_ok(lt)) {
		snprintf(c->err, sizeof(c->err), "link type %s (%d) is not decoded",
		         pcap_datalink_val_to_name(lt) ?: "?", lt);
		return -EPROTONOSUPPORT;
	}
	c->linktype = lt;

	if (pcap_setnonblock(c->p, 1, c->err) < 0)
		return -EIO;
	if (c->filter) {
		/* Netmask unknown: only "ip broadcast" needs it. */
		if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			set_err(c, pcap_geterr(c->p));
			return -EINVAL;
		}
		r = pcap_setfilter(c->p, &prog);
		pcap_freecode(&prog);
		if (r < 0)
			return pcap_fail(c, r);
	}
	if (pcap_get_selectable_fd(c->p) < 0) {
		set_err(c, "no selectable fd");
		return -EIO;
	}
	c->state = ST_ACTIVE;
	return 0;
}

int tf_capture_fd(const tf_capture *c)
{
	if (!c || c->state != ST_ACTIVE)
		return -EINVAL;
	return pcap_get_selectable_fd(c->p);
}

int tf_capture_linktype(const tf_capture *c)
{
	return c ? c->linktype : -EINVAL;
}

int tf_capture_read(tf_capture *c)
{
	int r;

	if (!c)
		return -EINVAL;
	if (c->state == ST_OFFLINE)
		return 0;
	if (c->state != ST_ACTIVE)
		return -EINVAL;
	c->cb_err = 0;
	c->n_new = 0;
	/* Non-blocking: 0 means the ring is empty. */
	do
		r = pcap_dispatch(c->p, -1, handler, (u_char *)c);
	while (r > 0);
	if (c->cb_err)
		return c->cb_err;
	if (r < 0 && r != PCAP_ERROR_BREAK)
		return pcap_fail(c, r);
	return c->n_new;
}

int tf_capture_dropped(tf_capture *c, uint64_t *ret)
{
	struct pcap_stat st;

	if (!c || !ret)
		return -EINVAL;
	if (c->state == ST_OFFLINE) {
		*ret = 0;
		return 0;
	}
	if (c->state != ST_ACTIVE)
		return -EINVAL;
	if (pcap_stats(c->p, &st) < 0)
		return pcap_fail(c, PCAP_ERROR);
	*ret = st.ps_drop;
	return 0;
}

size_t tf_capture_count(const tf_capture *c)
{
	return c ? c->n_pkts : 0;
}

const tf_pkt *tf_capture_pkt(const tf_capture *c, size_t i)
{
	return c && i < c->n_pkts ? &c->pkts[i] : NULL;
}

void tf_capture_free(tf_capture *c)
{
	if (!c)
		return;
	if (c->p)
		pcap_close(c->p);
	if (c->have_prog)
		pcap_freecode(&c->prog);
	free(c->filter);
	free(c->frames);
	free(c->data);
	free(c->pkts);
	free(c);
}

/* ----------------------------------------------------- offline feeding */

int tf_capture_inject(tf_capture *c, const uint8_t *frame, size_t len, int64_t ts_ns)
{
	struct pcap_pkthdr h;

	if (!c || !frame || len == 0 || len > SNAPLEN_MAX || ts_ns < 0)
		return -EINVAL;
	if (c->state != ST_OFFLINE)
		return -EINVAL;
	if (c->have_prog) {
		h.ts.tv_sec = (time_t)(ts_ns / NSEC_PER_SEC);
		h.ts.tv_usec = (suseconds_t)(ts_ns % NSEC_PER_SEC);
		h.caplen = h.len = (bpf_u_int32)len;
		if (!pcap_offline_filter(&c->prog, &h, frame))
			return 0;
	}
	return add_frame(c, frame, len, len, ts_ns);
}

int tf_capture_load(tf_capture *c, const char *pcap_path)
{
	size_t n_frames, n_data, n_pkts, nrec = 0;
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct pcap_pkthdr *h;
	const u_char *bytes;
	pcap_t *f;
	FILE *fp;
	int fd, r, pr, lt, n = 0;

	if (!c || !pcap_path)
		return -EINVAL;
	if (c->state != ST_OFFLINE)
		return -EINVAL;
	/* Opened here rather than by pcap_open_offline() for O_CLOEXEC. */
	fd = open(pcap_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fp = fdopen(fd, "rb");
	if (!fp) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Asking for nanoseconds makes libpcap scale microsecond files. */
	f = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!f) {
		fclose(fp);
		set_err(c, eb);
		return -EINVAL;
	}
	lt = pcap_datalink(f);
	if (!tf__linktype_ok(lt) || (c->n_frames > 0 && lt != c->linktype)) {
		snprintf(c->err, sizeof(c->err), "link type %s (%d) cannot be added to %s (%d)",
		         pcap_datalink_val_to_name(lt) ?: "?", lt,
		         pcap_datalink_val_to_name(c->linktype) ?: "?", c->linktype);
		pcap_close(f);
		return -EINVAL;
	}
	if (lt != c->linktype) {
		r = open_dead(c, lt);
		if (r == 0)
			r = offline_compile(c);
		if (r < 0) {
			pcap_close(f);
			return r;
		}
	}

	n_frames = c->n_frames;
	n_data = c->n_data;
	n_pkts = c->n_pkts;
	r = 0;
	/* pcap_next_ex(): 1 a frame, PCAP_ERROR_BREAK the end of the file. */
	while ((pr = pcap_next_ex(f, &h, &bytes)) == 1) {
		int64_t ts;

		nrec++;
		if (ts_ns_of(h, &ts) < 0) {
			snprintf(c->err, sizeof(c->err), "frame %zu: time %lld.%09lld s is out of range",
			         nrec, (long long)h->ts.tv_sec,
			         (long long)h->ts.tv_usec);
			r = -EINVAL;
			break;
		}
		if (c->have_prog && !pcap_offline_filter(&c->prog, h, bytes))
			continue;
		r = add_frame(c, bytes, h->caplen, h->len, ts);
		if (r < 0)
			break;
		n += r;
	}
	if (r >= 0 && pr != PCAP_ERROR_BREAK) {
		/* A truncated or corrupt file. */
		set_err(c, pcap_geterr(f));
		r = -EIO;
	}
	pcap_close(f);
	if (r < 0) {
		/* All or nothing. */
		c->n_frames = n_frames;
		c->n_data = n_data;
		c->n_pkts = n_pkts;
		return r;
	}
	return n;
}

int tf_capture_save(const tf_capture *c, const char *path)
{
	struct tf_atomic a;
	pcap_dumper_t *d = NULL;
	pcap_t *dead = NULL;
	FILE *fp = NULL;
	int fd, r = 0, snaplen;

	if (!c || !path || !*path)
		return -EINVAL;
	/* Header snaplen: the largest frame stored, at least the setting.
	 * A pcap record's seconds are 32 bits, read back signed by libpcap:
	 * a later time (pcapng or tf_capture_inject() can hold one) would be
	 * written wrapped, so it is refused before anything is written. */
	snaplen = c->snaplen;
	for (size_t i = 0; i < c->n_frames; i++) {
		if ((int)c->frames[i].caplen > snaplen)
			snaplen = (int)c->frames[i].caplen;
		if (c->frames[i].ts_ns / NSEC_PER_SEC > INT32_MAX)
			return -EOVERFLOW;
	}
	dead = pcap_open_dead_with_tstamp_precision(c->linktype, snaplen, PCAP_TSTAMP_PRECISION_NANO);
	if (!dead)
		return -ENOMEM;
	/* A temporary renamed over the target: a failed save leaves the
	 * previous file (or the device node the path names) alone. */
	fd = tf_atomic_open(&a, path);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	fp = fdopen(fd, "wb");
	if (!fp) {
		r = -errno;
		close(fd);
		goto out_abort;
	}
	d = pcap_dump_fopen(dead, fp);
	if (!d) {
		fclose(fp);
		r = -EIO;
		goto out_abort;
	}
	errno = 0;
	for (size_t i = 0; i < c->n_frames; i++) {
		const struct frame *fr = &c->frames[i];
		struct pcap_pkthdr h = {
			.ts.tv_sec = (time_t)(fr->ts_ns / NSEC_PER_SEC),
			.ts.tv_usec = (suseconds_t)(fr->ts_ns % NSEC_PER_SEC),
			.caplen = fr->caplen,
			.len = fr->wirelen,
		};
		static const u_char none[1];

		pcap_dump((u_char *)d, &h, fr->caplen ? c->data + fr->off : none);
	}
	/* pcap_dump() reports nothing: the stream's error flag tells, and
	 * errno (from the failed write) says why. */
	if (pcap_dump_flush(d) < 0 || ferror(pcap_dump_file(d)))
		r = errno > 0 ? -errno : -EIO;
	pcap_dump_close(d);
	if (r == 0) {
		r = tf_atomic_commit(&a);
		goto out;
	}
out_abort:
	tf_atomic_abort(&a);
out:
	pcap_close(dead);
	return r;
}

/* ---------------------------------------------------------------- queries */

static bool in_flow(const tf_pkt *p, const tf_flow *f)
{
	return p->proto == IPPROTO_TCP && tf_flow_addr_eq(p, f) &&
	       p->sport == f->sport && p->dport == f->dport;
}

bool tf_pkt_in_flow(const tf_pkt *p, const tf_flow *f, bool both_directions)
{
	tf_flow r;

	if (!p || !f)
		return false;
	if (in_flow(p, f))
		return true;
	if (!both_directions)
		return false;
	r = tf_flow_reverse(*f);
	return in_flow(p, &r);
}

/* Sequence space a segment occupies (RFC 9293 SEG.LEN): SYN and FIN count
 * one each, so a retransmitted bare FIN or SYN is found like data. */
static uint32_t seg_len(const tf_pkt *p)
{
	return p->payload + !!(p->flags & TF_TCP_SYN) + !!(p->flags & TF_TCP_FIN);
}

size_t tf_capture_tx_of(const tf_capture *c, const tf_flow *f, uint32_t seq,
                        size_t *idx, size_t max)
{
	size_t n = 0;

	if (!c || !f || (!idx && max))
		return 0;
	for (size_t i = 0; i < c->n_pkts; i++) {
		const tf_pkt *p = &c->pkts[i];

		/* Serial arithmetic: seq - p->seq wraps, so a segment
		 * straddling 2^32 still covers the numbers past 0. */
		if (!in_flow(p, f) || (uint32_t)(seq - p->seq) >= seg_len(p))
			continue;
		if (n < max)
			idx[n] = i;
		n++;
	}
	return n;
}

size_t tf_capture_syns(const tf_capture *c, const tf_flow *f, size_t *idx, size_t max)
{
	size_t n = 0;

	if (!c || !f || (!idx && max))
		return 0;
	for (size_t i = 0; i < c->n_pkts; i++) {
		const tf_pkt *p = &c->pkts[i];

		if (!in_flow(p, f) || (p->flags & (TF_TCP_SYN | TF_TCP_ACK)) != TF_TCP_SYN)
			continue;
		if (n < max)
			idx[n] = i;
		n++;
	}
	return n;
}

size_t tf_capture_count_flags(const tf_capture *c, const tf_flow *f, bool both, uint8_t flags)
{
	size_t n = 0;

	if (!c || !f)
		return 0;
	for (size_t i = 0; i < c->n_pkts; i++) {
		const tf_pkt *p = &c->pkts[i];

		if (tf_pkt_in_flow(p, f, both) && (p->flags & flags))
			n++;
	}
	return n;
}

tf_flow tf_flow_reverse(tf_flow f)
{
	return tf_flow_reverse_any(f);
}
