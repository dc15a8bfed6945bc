/*
 * ftcp_pl_exec.c — the exec family.
 *
 * exec replaces the image that owns the stack: without a word, peers would
 * hear nothing and the port would leak into the new image. So the process
 * that runs the stack closes its connections in order (FIN, as at exit)
 * and releases the port first, when the exec looks likely to succeed (the
 * file exists and is executable). The new image starts with no stack; the
 * libftcp fds it inherits are the kernel sockets underneath, unconnected.
 * A forked child never ran the stack and passes straight through.
 *
 * glibc's execl/execlp/execle/execv/execvp call execve internally, not
 * through the PLT, so each is wrapped here.
 */
#include "ftcp_pl.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

static execve_fn real_execve;
static execvpe_fn real_execvpe;
static fexecve_fn real_fexecve;

static void resolve(void)
{
	if (!real_execve) {
		*(void **)&real_execvpe = dlsym(RTLD_NEXT, "execvpe");
		*(void **)&real_fexecve = dlsym(RTLD_NEXT, "fexecve");
		*(void **)&real_execve = dlsym(RTLD_NEXT, "execve");
	}
}

/* Would execvp find something to run? (PATH search as glibc does it.) */
static bool findable(const char *file)
{
	const char *path, *p, *end;
	char buf[PATH_MAX];

	if (!*file)
		return false;
	if (strchr(file, '/'))
		return access(file, X_OK) == 0;
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		size_t dl;
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		dl = (size_t)(end - p);
		if (dl + 1 + strlen(file) < sizeof(buf)) {
			memcpy(buf, dl ? p : ".", dl ? dl : 1);
			if (!dl)
				dl = 1;
			buf[dl] = '/';
			strcpy(buf + dl + 1, file);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (!*end)
			return false;
	}
}

static void before_exec(bool likely)
{
	if (likely)
		pl_stop_for_exec();
}

PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	resolve();
	before_exec(access(path, X_OK) == 0);
	return real_execve(path, argv, envp);
}

PL_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	resolve();
	before_exec(findable(file));
	return real_execvpe(file, argv, envp);
}

PL_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	resolve();
	before_exec(fd >= 0);
	return real_fexecve(fd, argv, envp);
}

/* The list forms: gather the arguments (up to the first NULL) into an
 * array on the stack, bounded so a missing terminator cannot run away. */
#define PL_EXEC_MAX_ARGS 4096

#define GATHER(first, ap, argv, n)                                             \
	do {                                                                   \
		(argv)[0] = (char *)(first);                                   \
		for ((n) = 1; (argv)[(n)-1] && (n) < PL_EXEC_MAX_ARGS; (n)++)  \
			(argv)[(n)] = va_arg((ap), char *);                    \
	} while (0)

PL_EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS + 1];
	size_t n;
	va_list ap;

	va_start(ap, arg);
	GATHER(arg, ap, argv, n);
	va_end(ap);
	if (argv[n - 1]) {
		errno = E2BIG;
		return -1;
	}
	return execve(path, argv, environ);
}

PL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS + 1];
	size_t n;
	va_list ap;

	va_start(ap, arg);
	GATHER(arg, ap, argv, n);
	va_end(ap);
	if (argv[n - 1]) {
		errno = E2BIG;
		return -1;
	}
	return execvpe(file, argv, environ);
}

PL_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS + 1], *const *envp;
	size_t n;
	va_list ap;

	va_start(ap, arg);
	GATHER(arg, ap, argv, n);
	if (argv[n - 1]) {
		va_end(ap);
		errno = E2BIG;
		return -1;
	}
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}
