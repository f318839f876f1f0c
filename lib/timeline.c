/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tf_capture.h"
#include "tf_timeline.h"
#include "file_private.h"

#define LABEL_MAX   256
#define TITLE_MAX   512
#define EVENTS_MAX  10000

/* Geometry, in SVG user units (px). */
#define WIDTH       1200
#define X0          96             /* room for the lane names */
#define X1          (WIDTH - 32)
#define ROW         15             /* one row of staggered labels */
#define LANE        40
#define FONT        11
#define CHAR_W      6.6            /* average glyph width at FONT px, sans-serif */
#define TAU_US      10000.0        /* asinh scale: linear below, log above */

#define C_BAND     "#1e88e5"
#define C_EXP_TEXT "#0d47a1"
#define C_GIVEUP   "#e65100"

struct ev {
	char *label;
	int64_t at, lo, hi;
	uint8_t flags;
};

struct tf_timeline {
	char *title;
	struct ev *exp, *meas;
	size_t n_exp, n_meas, cap_exp, cap_meas;
	int64_t giveup_exp, giveup_meas;   /* -1: none */
};

int tf_timeline_new(tf_timeline **ret)
{
	tf_timeline *t;

	if (!ret)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->giveup_exp = t->giveup_meas = -1;
	*ret = t;
	return 0;
}

void tf_timeline_free(tf_timeline *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_exp; i++)
		free(t->exp[i].label);
	for (size_t i = 0; i < t->n_meas; i++)
		free(t->meas[i].label);
	free(t->exp);
	free(t->meas);
	free(t->title);
	free(t);
}

int tf_timeline_set_title(tf_timeline *t, const char *title)
{
	char *d;

	if (!t || !title || strlen(title) > TITLE_MAX)
		return -EINVAL;
	d = strdup(title);
	if (!d)
		return -ENOMEM;
	free(t->title);
	t->title = d;
	return 0;
}

static int push(struct ev **arr, size_t *n, size_t *cap, const char *label, struct ev e)
{
	if (!label || strlen(label) > LABEL_MAX)
		return -EINVAL;
	if (*n >= EVENTS_MAX)
		return -E2BIG;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct ev *a = realloc(*arr, nc * sizeof(*a));

		if (!a)
			return -ENOMEM;
		*arr = a;
		*cap = nc;
	}
	e.label = strdup(label);
	if (!e.label)
		return -ENOMEM;
	(*arr)[(*n)++] = e;
	return 0;
}

int tf_timeline_add_expected(tf_timeline *t, const char *label,
                             int64_t at_us, int64_t lo_us, int64_t hi_us)
{
	if (!t || lo_us < 0 || at_us < lo_us || hi_us < at_us)
		return -EINVAL;
	return push(&t->exp, &t->n_exp, &t->cap_exp, label,
	            (struct ev){ .at = at_us, .lo = lo_us, .hi = hi_us });
}

int tf_timeline_add_measured(tf_timeline *t, const char *label, int64_t at_us, uint8_t tcp_flags)
{
	if (!t || at_us < 0)
		return -EINVAL;
	return push(&t->meas, &t->n_meas, &t->cap_meas, label,
	            (struct ev){ .at = at_us, .lo = at_us, .hi = at_us, .flags = tcp_flags });
}

int tf_timeline_set_giveup(tf_timeline *t, int64_t expected_us, int64_t measured_us)
{
	if (!t || expected_us < -1 || measured_us < -1)
		return -EINVAL;
	t->giveup_exp = expected_us;
	t->giveup_meas = measured_us;
	return 0;
}

/* ------------------------------------------------------------- text */

/* Length of the valid UTF-8 sequence at s (1..4), or 0.  XML 1.0 also
 * forbids surrogates and U+FFFE/U+FFFF, which are rejected here. */
static size_t utf8_seq(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

/* Characters as a person counts them, for the width estimate. */
static size_t text_chars(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; ) {
		size_t l = utf8_seq(p);
		p += l ? l : 1;
		n++;
	}
	return n;
}

static double text_w(const char *s)
{
	return (double)text_chars(s) * CHAR_W;
}

/* XML character data / attribute value. */
static void put_esc(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; ) {
		size_t l = utf8_seq(p);

		if (!l) {
			fputs("\xef\xbf\xbd", f);   /* U+FFFD */
			p++;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			if (*p < 0x20 || *p == 0x7f)
				fputc(' ', f);
			else
				fwrite(p, 1, l, f);
		}
		p += l;
	}
}

/*
 * Durations with integer arithmetic only: printf's %f follows LC_NUMERIC,
 * and a decimal comma would be a broken SVG.  `dec` decimals, trailing
 * zeros dropped.
 */
static void fmt_dur(char *buf, size_t n, int64_t us, int dec)
{
	static const int64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	const char *unit;
	int64_t div, ip, fp, scale;
	size_t l;

	if (us == 0) {
		snprintf(buf, n, "0");
		return;
	}
	if (us < 1000)
		div = 1, unit = "\xc2\xb5s";
	else if (us < 1000000)
		div = 1000, unit = "ms";
	else
		div = 1000000, unit = "s";
	if (dec > 6)
		dec = 6;
	while (dec > 0 && pow10[dec] > div)
		dec--;
	scale = div / pow10[dec];                 /* us per last digit */
	us = (us + scale / 2) / scale * scale;    /* round */
	ip = us / div;
	fp = (us % div) / scale;
	if (dec == 0 || fp == 0) {
		snprintf(buf, n, "%lld %s", (long long)ip, unit);
		return;
	}
	snprintf(buf, n, "%lld.%0*lld", (long long)ip, dec, (long long)fp);
	l = strlen(buf);
	while (l > 0 && buf[l - 1] == '0')
		buf[--l] = 0;
	snprintf(buf + l, n - l, " %s", unit);
}

/* ------------------------------------------------------------ layout */

struct scale {
	double umax;   /* asinh(tmax / tau) */
};

static int x_of(const struct scale *s, int64_t us)
{
	double u = asinh((double)us / TAU_US);
	return X0 + (int)lround((X1 - X0) * u / s->umax);
}

/* One label to place in a stack of rows next to a lane. */
struct lab {
	int x;             /* event position */
	int64_t at, at_last;
	const char *label; /* NULL: a give-up */
	const char *color;
	size_t idx;        /* insertion order, to sort deterministically */
	size_t n;          /* events merged into this label */
	bool same;         /* all merged events have the same label */
	int lx;            /* text anchor position */
	const char *anchor;
	double l, r;       /* extent */
	int row;           /* -1: no room, not drawn (the tooltip still says) */
	char text[LABEL_MAX + 96];
};

/*
 * Greedy: each label (in x order) takes the first row where it does not
 * overlap the last label placed there, up to MAX_ROWS.  Returns the number
 * of rows used.
 */
#define MAX_ROWS 8
static int place(struct lab *L, size_t n, size_t *hidden)
{
	double end[MAX_ROWS];
	int rows = 0;

	*hidden = 0;
	for (size_t i = 0; i < n; i++) {
		double w = text_w(L[i].text);
		int row;

		/* centred on the event, pushed back inside the canvas */
		L[i].anchor = "middle";
		L[i].lx = L[i].x;
		L[i].l = L[i].x - w / 2;
		L[i].r = L[i].x + w / 2;
		if (L[i].l < 4) {
			L[i].anchor = "start";
			L[i].lx = L[i].x - 2;
			L[i].l = L[i].lx;
			L[i].r = L[i].lx + w;
		} else if (L[i].r > WIDTH - 4) {
			L[i].anchor = "end";
			L[i].lx = L[i].x + 2;
			L[i].r = L[i].lx;
			L[i].l = L[i].lx - w;
		}
		for (row = 0; row < rows; row++)
			if (L[i].l > end[row] + 6)
				break;
		if (row == MAX_ROWS) {
			L[i].row = -1;
			(*hidden)++;
			continue;
		}
		if (row == rows)
			rows++;
		end[row] = L[i].r;
		L[i].row = row;
	}
	return rows;
}

static int cmp_lab(const void *a, const void *b)
{
	const struct lab *x = a, *y = b;

	if (x->x != y->x)
		return (x->x > y->x) - (x->x < y->x);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * Events closer than CLUSTER_PX share one label ("tx ×20 100 µs–803 µs"):
 * a burst would otherwise need a row per packet.  Give-ups and events of
 * another colour are never merged.  Returns the new count.
 */
#define CLUSTER_PX 4
static size_t cluster(struct lab *L, size_t n)
{
	size_t k = 0;

	qsort(L, n, sizeof(*L), cmp_lab);
	for (size_t i = 0; i < n; i++) {
		struct lab *c = k ? &L[k - 1] : NULL;

		if (c && L[i].label && c->label && L[i].color == c->color &&
		    L[i].x - c->x <= CLUSTER_PX) {
			c->n++;
			c->same = c->same && strcmp(c->label, L[i].label) == 0;
			if (L[i].at < c->at)
				c->at = L[i].at;
			if (L[i].at > c->at_last)
				c->at_last = L[i].at;
			continue;
		}
		L[k] = L[i];
		L[k].n = 1;
		L[k].same = true;
		L[k].at_last = L[k].at;
		k++;
	}
	for (size_t i = 0; i < k; i++) {
		struct lab *c = &L[i];
		char a[32], b[32];

		fmt_dur(a, sizeof(a), c->at, 3);
		fmt_dur(b, sizeof(b), c->at_last, 3);
		if (!c->label)
			snprintf(c->text, sizeof(c->text), "give-up %s", a);
		else if (c->n == 1)
			snprintf(c->text, sizeof(c->text), "%s %s", c->label, a);
		else if (c->same && strcmp(a, b) == 0)
			snprintf(c->text, sizeof(c->text), "%s \xc3\x97%zu %s", c->label, c->n, a);
		else if (c->same)
			snprintf(c->text, sizeof(c->text), "%s \xc3\x97%zu %s\xe2\x80\x93%s",
			         c->label, c->n, a, b);
		else if (strcmp(a, b) == 0)
			snprintf(c->text, sizeof(c->text), "%zu events %s", c->n, a);
		else
			snprintf(c->text, sizeof(c->text), "%zu events %s\xe2\x80\x93%s", c->n, a, b);
	}
	return k;
}

static const char *flag_color(uint8_t fl)
{
	if (fl & TF_TCP_RST)
		return "#c62828";
	if (fl & TF_TCP_SYN)
		return "#2e7d32";
	if (fl & TF_TCP_FIN)
		return "#7b1fa2";
	return "#212121";
}


static void legend(FILE *f, int y)
{
	int x = X0;

	fprintf(f, "<g font-size=\"%d\">\n", FONT);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"10\" fill=\"" C_BAND
	        "\" fill-opacity=\"0.25\" stroke=\"" C_BAND "\"/>", x, y - 9);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_BAND "\" stroke-width=\"2\"/>",
	        x + 9, y - 9, x + 9, y + 1);
	fprintf(f, "<text x=\"%d\" y=\"%d\">expected (tolerance band)</text>\n", x + 24, y);
	x += 190;
	static const struct { uint8_t fl; const char *name; } k[] = {
		{ TF_TCP_ACK, "sent" }, { TF_TCP_SYN, "SYN" }, { TF_TCP_FIN, "FIN" }, { TF_TCP_RST, "RST" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>",
		        x, y - 10, x, y + 2, flag_color(k[i].fl));
		fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 6, y, k[i].name);
		x += i == 0 ? 50 : 48;
	}
	x += 20;
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_GIVEUP
	        "\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>", x, y - 10, x, y + 2);
	fprintf(f, "<text x=\"%d\" y=\"%d\">give-up expected</text>\n", x + 6, y);
	x += 118;
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_GIVEUP
	        "\" stroke-width=\"3\"/>", x, y - 10, x, y + 2);
	fprintf(f, "<text x=\"%d\" y=\"%d\">give-up measured</text>\n", x + 6, y);
	fprintf(f, "</g>\n");
}

/* Labels of one lane: rows stacked away from the lane (`dir` -1 up, +1
 * down) starting at y0, each with a leader line to the lane edge y_edge. */
static void draw_labels(FILE *f, const struct lab *L, size_t n, int y0, int dir, int y_edge)
{
	/* Leader lines first: the labels' white backing hides where they
	 * pass behind a nearer row. */
	for (size_t i = 0; i < n; i++) {
		int y = y0 + dir * L[i].row * ROW;   /* baseline */
		int ly = dir < 0 ? y + 3 : y - FONT;

		if (L[i].row > 0)
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bdbdbd\" stroke-width=\"1\"/>\n",
			        L[i].x, ly, L[i].x, y_edge);
	}
	for (size_t i = 0; i < n; i++) {
		int y = y0 + dir * L[i].row * ROW;

		if (L[i].row < 0)
			continue;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>",
		        (int)L[i].l - 1, y - FONT + 1, (int)(L[i].r - L[i].l) + 2, FONT + 2);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" fill=\"%s\">", L[i].lx, y,
		        L[i].anchor, L[i].color);
		put_esc(f, L[i].text);
		fputs("</text>\n", f);
	}
}

struct layout {
	struct scale s;
	struct lab *le, *lm;      /* expected (+ give-up) and measured (+ give-up) labels */
	size_t ne, nm;
	int rows_e, rows_m;
	size_t hidden;            /* labels without room */
};

static void layout_free(struct layout *l)
{
	free(l->le);
	free(l->lm);
}

static int layout(const tf_timeline *t, struct layout *l)
{
	int64_t tmax = 100000;   /* at least 100 ms of axis */
	size_t k, h;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < t->n_exp; i++)
		if (t->exp[i].hi > tmax)
			tmax = t->exp[i].hi;
	for (size_t i = 0; i < t->n_meas; i++)
		if (t->meas[i].at > tmax)
			tmax = t->meas[i].at;
	if (t->giveup_exp > tmax)
		tmax = t->giveup_exp;
	if (t->giveup_meas > tmax)
		tmax = t->giveup_meas;
	/* 4 % of headroom in scale units, for the last tick's label. */
	l->s.umax = asinh((double)tmax / TAU_US) * 1.04;

	l->le = calloc(t->n_exp + 1, sizeof(*l->le));
	l->lm = calloc(t->n_meas + 1, sizeof(*l->lm));
	if (!l->le || !l->lm)
		return -ENOMEM;
	for (k = 0; k < t->n_exp; k++)
		l->le[k] = (struct lab){ .x = x_of(&l->s, t->exp[k].at), .at = t->exp[k].at,
		                         .label = t->exp[k].label, .color = C_EXP_TEXT, .idx = k };
	if (t->giveup_exp >= 0) {
		l->le[k] = (struct lab){ .x = x_of(&l->s, t->giveup_exp), .at = t->giveup_exp,
		                         .color = C_GIVEUP, .idx = k };
		k++;
	}
	l->ne = cluster(l->le, k);
	for (k = 0; k < t->n_meas; k++)
		l->lm[k] = (struct lab){ .x = x_of(&l->s, t->meas[k].at), .at = t->meas[k].at,
		                         .label = t->meas[k].label,
		                         .color = flag_color(t->meas[k].flags), .idx = k };
	if (t->giveup_meas >= 0) {
		l->lm[k] = (struct lab){ .x = x_of(&l->s, t->giveup_meas), .at = t->giveup_meas,
		                         .color = C_GIVEUP, .idx = k };
		k++;
	}
	l->nm = cluster(l->lm, k);
	l->rows_e = place(l->le, l->ne, &h);
	l->hidden = h;
	l->rows_m = place(l->lm, l->nm, &h);
	l->hidden += h;
	return 0;
}

/* 1-2-5 ticks up to the end of the axis, labelled where there is room. */
static void axis(FILE *f, const struct layout *l, int y_top, int y_axis, int y_bot)
{
	static const int m[] = { 1, 2, 5 };
	double last_r = -1e9;
	int64_t tmax = (int64_t)(sinh(l->s.umax) * TAU_US);
	char d[32];

	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#424242\" stroke-width=\"1\"/>\n",
	        X0, y_axis, X1, y_axis);
	fprintf(f, "<g font-size=\"%d\" fill=\"#616161\" text-anchor=\"middle\">\n", FONT - 1);
	for (int64_t dec = 0; dec <= 1000000000000LL; dec = dec ? dec * 10 : 1000) {
		for (size_t i = 0; i < (dec ? 3 : 1); i++) {
			int64_t v = dec * m[i];
			int x;
			double w;

			if (v > tmax)
				goto done;
			x = x_of(&l->s, v);
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e0e0e0\" stroke-width=\"1\"/>",
			        x, y_top, x, y_bot);
			fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#424242\" stroke-width=\"1\"/>\n",
			        x, y_axis, x, y_axis + (m[i] == 1 ? 6 : 3));
			if (v == 0)
				snprintf(d, sizeof(d), "0");
			else
				fmt_dur(d, sizeof(d), v, 0);
			w = text_w(d) * 0.95;
			if (x - w / 2 > last_r + 8) {
				fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", x, y_axis + 18, d);
				last_r = x + w / 2;
			}
		}
	}
done:
	fputs("</g>\n", f);
}

static void render(FILE *f, const tf_timeline *t, const struct layout *l)
{
	int y = 0, y_le, y_band, y_axis, y_meas, y_lm, height, rows_e, rows_m;
	char a[32], b[32], c[32];

	rows_e = l->rows_e > 0 ? l->rows_e : 1;
	rows_m = l->rows_m > 0 ? l->rows_m : 1;
	y = 28;                                   /* title baseline */
	y += 18;                                  /* scale note */
	y += 24;                                  /* legend baseline */
	y_le = y + 14 + (rows_e - 1) * ROW + 12;  /* baseline of the row nearest the lane */
	y_band = y_le + 8;                        /* expected lane */
	y_axis = y_band + LANE;
	y_meas = y_axis + 26;                     /* measured lane, below the tick labels */
	y_lm = y_meas + LANE + 8 + FONT;          /* first row of measured labels */
	height = y_lm + (rows_m - 1) * ROW + 16;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
	           "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
	           "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	           "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	           "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"%d\">\n",
	        WIDTH, height, WIDTH, height, FONT);
	fputs("<title>", f);
	put_esc(f, t->title ? t->title : "tcpfate timeline");
	fputs("</title>\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", WIDTH, height);
	fprintf(f, "<text x=\"12\" y=\"28\" font-size=\"16\" font-weight=\"bold\">");
	put_esc(f, t->title ? t->title : "tcpfate timeline");
	fputs("</text>\n", f);
	fprintf(f, "<text x=\"12\" y=\"46\" fill=\"#757575\">time from t = 0; scale asinh(t / 10 ms): "
	           "linear below 10 ms, logarithmic above (equal widths = equal ratios)</text>\n");
	legend(f, 70);

	/* lanes */
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#f5f9ff\"/>\n",
	        X0, y_band, X1 - X0, LANE);
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n",
	        X0, y_meas, X1 - X0, LANE);
	fprintf(f, "<text x=\"12\" y=\"%d\" font-weight=\"bold\" fill=\"#0d47a1\">expected</text>\n",
	        y_band + LANE / 2 + 4);
	fprintf(f, "<text x=\"12\" y=\"%d\" font-weight=\"bold\">measured</text>\n",
	        y_meas + LANE / 2 + 4);
	axis(f, l, y_band, y_axis, y_meas + LANE);

	/* expected bands */
	for (size_t i = 0; i < t->n_exp; i++) {
		const struct ev *e = &t->exp[i];
		int xl = x_of(&l->s, e->lo), xh = x_of(&l->s, e->hi), xa = x_of(&l->s, e->at);

		if (xh - xl < 3)
			xl = xa - 1, xh = xa + 2;   /* keep it visible */
		fmt_dur(a, sizeof(a), e->at, 3);
		fmt_dur(b, sizeof(b), e->lo, 3);
		fmt_dur(c, sizeof(c), e->hi, 3);
		fputs("<g><title>", f);
		put_esc(f, e->label);
		fprintf(f, ": expected %s, allowed [%s, %s]</title>", a, b, c);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"" C_BAND
		        "\" fill-opacity=\"0.25\" stroke=\"" C_BAND "\" stroke-width=\"1\"/>",
		        xl, y_band + 4, xh - xl, LANE - 8);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_BAND
		        "\" stroke-width=\"2\"/></g>\n", xa, y_band + 2, xa, y_band + LANE - 2);
	}

	/* give-up lines through both lanes */
	if (t->giveup_exp >= 0) {
		int x = x_of(&l->s, t->giveup_exp);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_GIVEUP
		        "\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/>\n", x, y_band, x, y_meas + LANE);
	}
	if (t->giveup_meas >= 0) {
		int x = x_of(&l->s, t->giveup_meas);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" C_GIVEUP
		        "\" stroke-width=\"3\"/>\n", x, y_band, x, y_meas + LANE);
	}

	/* measured ticks, faintly continued through the band lane */
	for (size_t i = 0; i < t->n_meas; i++) {
		const struct ev *e = &t->meas[i];
		int x = x_of(&l->s, e->at);
		const char *col = flag_color(e->flags);

		fmt_dur(a, sizeof(a), e->at, 3);
		fputs("<g><title>", f);
		put_esc(f, e->label);
		fprintf(f, ": on the wire at %s</title>", a);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1\" "
		        "stroke-opacity=\"0.35\" stroke-dasharray=\"2,2\"/>", x, y_band, x, y_axis, col);
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>"
		        "</g>\n", x, y_meas + 3, x, y_meas + LANE - 3, col);
	}

	draw_labels(f, l->le, l->ne, y_le, -1, y_band);
	draw_labels(f, l->lm, l->nm, y_lm, +1, y_meas + LANE);
	if (l->hidden)
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#9e9e9e\">"
		        "%zu labels without room (hover the marks)</text>\n", X1, 46, l->hidden);
	if (!t->n_exp && !t->n_meas && t->giveup_exp < 0 && t->giveup_meas < 0)
		fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#9e9e9e\">no events</text>\n",
		        X0 + 8, y_meas + LANE / 2 + 4);
	fputs("</svg>\n", f);
}

int tf_timeline_write(const tf_timeline *t, const char *path)
{
	struct tf_atomic a;
	struct layout l;
	FILE *f;
	int fd, r;

	if (!t || !path || !*path)
		return -EINVAL;
	r = layout(t, &l);
	if (r < 0)
		goto out;
	/* A temporary renamed over the target: a failed write leaves the
	 * previous file (or whatever the path names) alone. */
	fd = tf_atomic_open(&a, path);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		tf_atomic_abort(&a);
		goto out;
	}
	errno = 0;
	render(f, t, &l);
	/* fprintf reports nothing useful one call at a time: check once. */
	if (fflush(f) != 0 || ferror(f))
		r = errno > 0 ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = tf_atomic_commit(&a);
	else
		tf_atomic_abort(&a);
out:
	layout_free(&l);
	return r;
}
