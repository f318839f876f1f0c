/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate run's formats beside its human report (cmd_run.c runs the
 * binaries): --ktap nests each binary's own KTAP as a subtest, --json puts
 * each binary's own document, checked to be JSON, into one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tf_result.h"
#include "file_out.h"

/* --ktap: one binary's own KTAP as a subtest (indented two spaces, with
 * the "# Subtest:" line kunit.py wants after the version line), then its
 * result line: not ok when a case failed or the binary ended badly, a skip
 * when every case skipped.  A binary that ended badly (a signal, an
 * unexpected status, results other than its plan) gets one more result,
 * "not ok ... # ERROR", and a plan that counts it: every parser then
 * counts one failure more, as the TAP report does. */
void tf_run_ktap_binary(FILE *out, unsigned num, const char *name, char *tap, int status,
                        const char *errs, tf_ktap_totals *tt, unsigned counts[3])
{
	char *save = NULL, *line, why[160] = "";
	unsigned plan = 0, results = 0, skip = 0, failed = 0;
	bool version = false, plan_seen = false, bad;

	/* first pass: what the binary reported */
	for (const char *p = tap, *nl; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (!version) {
			version = strncmp(p, "KTAP version 1\n", 15) == 0;
		} else if (!plan_seen && strncmp(p, "1..", 3) == 0) {
			plan_seen = true;
			plan = (unsigned)strtoul(p + 3, NULL, 10);
		} else if (strncmp(p, "ok ", 3) == 0 || strncmp(p, "not ok ", 7) == 0) {
			results++;
		}
	}
	if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
	else if (WEXITSTATUS(status) > 1 && WEXITSTATUS(status) != 4)
		snprintf(why, sizeof why, "exited with status %d", WEXITSTATUS(status));
	else if (!version || !plan_seen || results != plan)
		snprintf(why, sizeof why, "plan 1..%u, %u results", plan, results);
	bad = why[0] != 0;
	if (!version) {
		tt->error++;
		counts[1]++;
		fprintf(out, "#   binary ");
		tf_oneline(out, name);
		fprintf(out, ": %s; no KTAP output\n", why);
		if (errs && *errs) {
			fprintf(out, "#   stderr: ");
			tf_oneline(out, errs);
			fputc('\n', out);
		}
		fprintf(out, "not ok %u ", num);
		tf_ktap_desc(out, name);
		fprintf(out, " # ERROR %s\n", why);
		return;
	}

	version = plan_seen = false;
	for (line = tap ? strtok_r(tap, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool is_ok = strncmp(line, "ok ", 3) == 0, is_nok = strncmp(line, "not ok ", 7) == 0;

		if (!version && strcmp(line, "KTAP version 1") != 0)
			continue;         /* nothing before the version line */
		if (!version) {
			version = true;
			fprintf(out, "  KTAP version 1\n  # Subtest: ");
			tf_ktap_desc(out, name);
			fputc('\n', out);
			continue;
		}
		if (!plan_seen && strncmp(line, "1..", 3) == 0) {
			plan_seen = true;
			fprintf(out, "  1..%u\n", bad ? results + 1 : plan);
			continue;
		}
		fprintf(out, "  ");
		tf_oneline(out, line);
		fputc('\n', out);
		if (is_ok || is_nok) {
			/* the binary's own directives, as it wrote them */
			const char *d = strstr(line, " # ");
			tf_res_status s = is_nok ? TF_RES_FAIL : TF_RES_PASS;
			if (d && strncmp(d, " # SKIP", 7) == 0)
				s = TF_RES_SKIP;
			else if (d && is_nok && strncmp(d, " # TIMEOUT", 10) == 0)
				s = TF_RES_TIMEOUT;
			else if (d && is_nok && strncmp(d, " # ERROR", 8) == 0)
				s = TF_RES_ERROR;
			tf_ktap_count(tt, s);
			skip += s == TF_RES_SKIP;
			failed += tf_res_failed(s);
			if (s == TF_RES_SKIP)
				counts[2]++;
			else if (tf_res_failed(s))
				counts[1]++;
			else
				counts[0]++;
		}
	}
	if (bad) {
		if (!plan_seen)
			fprintf(out, "  1..%u\n", results + 1);
		tt->error++;
		counts[1]++;
		if (errs && *errs) {
			fprintf(out, "  #   stderr: ");
			tf_oneline(out, errs);
			fputc('\n', out);
		}
		fprintf(out, "  not ok %u ", results + 1);
		tf_ktap_desc(out, name);
		fprintf(out, "_binary # ERROR %s\n", why);
	}
	fprintf(out, "%s %u ", failed || bad ? "not ok" : "ok", num);
	tf_ktap_desc(out, name);
	if (!failed && !bad && results && skip == results)
		fprintf(out, " # SKIP every case skipped");
	fputc('\n', out);
}

/* --json: every binary's own document (checked to be JSON) inside one. */
int tf_run_json_write(const char *path, const char *suite, size_t nb, const char *const *names,
                      const char *const *json_paths, const int *statuses)
{
	tf_file_out out;
	int r = 0;
	FILE *f = tf_file_out_open(&out, path, &r);

	if (!f)
		return r;
	fprintf(f, "{\"format\": \"tcpfate-results\", \"version\": 1, \"tool\": \"tcpfate run\",\n"
	           " \"suite\": ");
	tf_json_str(f, suite);
	fputs(",\n", f);
	tf_json_facts(f, " ");
	fprintf(f, ",\n \"uid\": %u,\n \"binaries\": [", (unsigned)getuid());
	for (size_t i = 0; i < nb; i++) {
		char *doc = NULL;
		size_t len = 0;
		FILE *in = json_paths[i] ? fopen(json_paths[i], "re") : NULL;

		if (in) {
			char buf[65536];
			size_t n;
			FILE *m = open_memstream(&doc, &len);
			while (m && (n = fread(buf, 1, sizeof buf, in)) > 0)
				fwrite(buf, 1, n, m);
			if (m)
				fclose(m);
			fclose(in);
		}
		fprintf(f, "%s\n  {\"binary\": ", i ? "," : "");
		tf_json_str(f, names[i]);
		if (WIFSIGNALED(statuses[i]))
			fprintf(f, ", \"exit\": null, \"signal\": %d", WTERMSIG(statuses[i]));
		else
			fprintf(f, ", \"exit\": %d, \"signal\": null", WEXITSTATUS(statuses[i]));
		fputs(", \"result\": ", f);
		/* a binary's document is its word: included only when whole */
		if (doc && tf_json_valid(doc, len)) {
			while (len && (doc[len - 1] == '\n' || doc[len - 1] == ' '))
				len--;
			fwrite(doc, 1, len, f);
		} else {
			fputs("null", f);
		}
		fputs("}", f);
		free(doc);
	}
	fputs("\n ]}\n", f);
	return tf_file_out_close(&out);
}

