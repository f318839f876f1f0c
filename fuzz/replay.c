/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main() for a fuzz target without libFuzzer: runs every file named (or
 * every file in every directory named) through LLVMFuzzerTestOneInput()
 * once.  Built in every build as a unit test over fuzz/corpus/, so that
 * each reproducer of a fixed crash stays fixed, with gcc and under
 * ci/sanitize too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *b = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	rewind(f);
	/* Exactly the file's size, so that ASan sees any read past it. */
	b = malloc(n ? (size_t)n : 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(b, (size_t)n);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	size_t runs = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **ents;
		int n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0)
				return 1;
			runs++;
			continue;
		}
		n = scandir(argv[i], &ents, NULL, alphasort);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		for (int k = 0; k < n; k++) {
			char *p;
			int r = 0;

			if (ents[k]->d_name[0] != '.') {
				if (asprintf(&p, "%s/%s", argv[i], ents[k]->d_name) < 0)
					return 1;
				r = run_file(p);
				free(p);
				runs++;
			}
			free(ents[k]);
			if (r < 0)
				return 1;
		}
		free(ents);
	}
	printf("replayed %zu inputs\n", runs);
	return runs ? 0 : 1;
}
