/*
 * fuzz_replay.c — run the fuzz target (fuzz_stack.c) on saved inputs
 * without libFuzzer: every file named, and every regular file in every
 * directory named (in name order). Used by `meson test` and scripts/test.sh
 * to replay tests/fuzz/corpus in the normal and the sanitizer builds.
 *
 * A violated invariant or a sanitizer report aborts, so reaching the end
 * means every input passed: prints "fuzz replay: N inputs, 0 crashes" and
 * exits 0 (1 when no input was found or a file could not be read).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_stack.h"

static unsigned n_inputs;
static int errors;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "fuzz replay: cannot read %s\n", path);
		if (f)
			fclose(f);
		errors++;
		return;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		errors++;
		return;
	}
	fclose(f);
	if (getenv("FTCP_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz replay: %s (%ld bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	n_inputs++;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d) {
		fprintf(stderr, "fuzz replay: cannot open %s\n", dir);
		errors++;
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
			if (!more)
				abort();
			names = more;
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-DIRECTORY...\n", argv[0]);
		return 2;
	}
	fuzz_stack_always_check_liveness = 1;
	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	printf("fuzz replay: %u inputs, 0 crashes\n", n_inputs);
	return errors || !n_inputs ? 1 : 0;
}
