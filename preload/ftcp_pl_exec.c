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
		if (dl + 2 + strlen(file) < sizeof(buf)) {
			/* An empty PATH entry means the current directory. */
			memcpy(buf, dl ? p : ".", dl ? dl : 1);
			dl = dl ? dl : 1;
			buf[dl] = '/';
			strcpy(buf + dl + 1, file);
			if (access(buf, X_OK) == 0)
				return true;
		}
		if (!*end)
			return false;
	}
}

PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	resolve();
	if (access(path, X_OK) == 0)
		pl_stop_for_exec();
	return real_execve(path, argv, envp);
}

PL_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	resolve();
	if (findable(file))
		pl_stop_for_exec();
	return real_execvpe(file, argv, envp);
}

PL_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

PL_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	resolve();
	if (fd >= 0)
		pl_stop_for_exec();
	return real_fexecve(fd, argv, envp);
}

/* The list forms: gather the arguments (up to the first NULL) into argv,
 * bounded so a missing terminator cannot run away. false (E2BIG) when no
 * terminator came within the bound. */
#define PL_EXEC_MAX_ARGS 4096

static bool gather(const char *first, va_list *ap, char **argv)
{
	size_t n;

	argv[0] = (char *)first;
	for (n = 1; argv[n - 1]; n++) {
		if (n == PL_EXEC_MAX_ARGS) {
			errno = E2BIG;
			return false;
		}
		argv[n] = va_arg(*ap, char *);
	}
	return true;
}

PL_EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS];
	va_list ap;
	bool ok;

	va_start(ap, arg);
	ok = gather(arg, &ap, argv);
	va_end(ap);
	return ok ? execve(path, argv, environ) : -1;
}

PL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS];
	va_list ap;
	bool ok;

	va_start(ap, arg);
	ok = gather(arg, &ap, argv);
	va_end(ap);
	return ok ? execvpe(file, argv, environ) : -1;
}

PL_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[PL_EXEC_MAX_ARGS], *const *envp = NULL;
	va_list ap;
	bool ok;

	va_start(ap, arg);
	ok = gather(arg, &ap, argv);
	if (ok)
		envp = va_arg(ap, char *const *);
	va_end(ap);
	return ok ? execve(path, argv, envp) : -1;
}
