/*
 * ftcp-stat — print the state of programs running on libftcp.so: their
 * sockets with TCP details (like ss -ti), port, pool and stack counters.
 *
 * Each such program serves <DIR>/<pid>.sock (preload/ftcp_pl_dump.c);
 * this asks it for a report and copies the answer to stdout.
 *
 * usage: ftcp-stat [-d DIR] [--watch N] [PID] [sockets|counters|all]
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_S 5

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: ftcp-stat [-d DIR] [-w N] [PID] [sockets|counters|all]\n"
	        "\n"
	        "Print the state of a program running on libftcp.so (started with ftcp-run):\n"
	        "its sockets with TCP details (queues, cwnd, RTT, retransmits), the port's\n"
	        "counters, the stack's pools and its non-zero counters.\n"
	        "\n"
	        "  PID             the program's pid; without it, every live program in DIR\n"
	        "                  (stale sockets of programs that are gone are removed)\n"
	        "  sockets|counters|all   what to print (default all)\n"
	        "  -d, --dir DIR   where the programs' state sockets are (default\n"
	        "                  $FTCP_DUMP_DIR, else /run/ftcp)\n"
	        "  -w, --watch N   print again every N seconds until Ctrl-C\n"
	        "  -h, --help      this text\n");
}

/* Copy one report from DIR/PID.sock to stdout. 0, or -1 with a message. */
static int dump_one(const char *dir, long pid, const char *cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	char buf[16384], line[80];
	ssize_t n;
	int fd, len;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%ld.sock", dir, pid) >=
	    (int)sizeof(sa.sun_path)) {
		fprintf(stderr, "ftcp-stat: %s/%ld.sock: path too long\n", dir, pid);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "ftcp-stat: socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		fprintf(stderr, "ftcp-stat: %s: %s%s\n", sa.sun_path, strerror(e),
		        e == ENOENT         ? " (is the program running on libftcp.so, with this "
		                              "FTCP_DUMP_DIR, and has it opened a socket yet?)"
		        : e == ECONNREFUSED ? " (the program is not serving it: exited or exec'd?)"
		                            : "");
		close(fd);
		return -1;
	}
	len = snprintf(line, sizeof(line), "%s\n", cmd);
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, "ftcp-stat: %s: send: %s\n", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (n < 0) {
		fprintf(stderr, "ftcp-stat: %s: %s\n", sa.sun_path,
		        errno == EAGAIN ? "no answer (timed out)" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	fflush(stdout);
	return 0;
}

static bool pid_alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Every live program in dir; stale sockets are removed. 0 if at least one
 * report was printed. */
static int dump_all(const char *dir, const char *cmd)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int shown = 0, failed = 0;

	if (!d) {
		fprintf(stderr, "ftcp-stat: %s: %s (no program has run on libftcp.so with this "
		                "FTCP_DUMP_DIR?)\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char *end, path[4096];
		long pid = strtol(e->d_name, &end, 10);

		if (end == e->d_name || strcmp(end, ".sock") || pid <= 0)
			continue;
		if (!pid_alive(pid)) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) == 0)
				fprintf(stderr, "ftcp-stat: removed %s (pid %ld is gone)\n", path, pid);
			continue;
		}
		if (shown + failed)
			printf("\n");
		if (dump_one(dir, pid, cmd) == 0)
			shown++;
		else
			failed++;
	}
	closedir(d);
	if (!shown && !failed)
		fprintf(stderr, "ftcp-stat: no program running on libftcp.so in %s\n", dir);
	return shown ? 0 : -1;
}

static int parse_uint(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "watch", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = getenv("FTCP_DUMP_DIR"), *cmd = "all";
	long pid = 0, watch = 0;
	int c, rc;

	if (!dir || !*dir)
		dir = "/run/ftcp";
	while ((c = getopt_long(argc, argv, "d:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'w':
			if (parse_uint(optarg, 86400, &watch) < 0) {
				fprintf(stderr, "ftcp-stat: --watch \"%s\": expected seconds, 1 to 86400\n",
				        optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		const char *a = argv[optind];
		if (!strcmp(a, "sockets") || !strcmp(a, "counters") || !strcmp(a, "all")) {
			cmd = a;
		} else if (!pid && parse_uint(a, 1L << 30, &pid) == 0) {
			;
		} else {
			fprintf(stderr, "ftcp-stat: \"%s\": expected a pid or sockets, counters, all\n",
			        a);
			usage(stderr);
			return 2;
		}
	}

	if (watch) {
		struct sigaction sa = { .sa_handler = on_sigint };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		if (watch) {
			char ts[32];
			time_t now = time(NULL);
			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
			printf("==== %s ====\n", ts);
		}
		rc = pid ? dump_one(dir, pid, cmd) : dump_all(dir, cmd);
		if (!watch || interrupted)
			break;
		/* The program may have gone: keep watching only a live one. */
		if (pid && !pid_alive(pid)) {
			fprintf(stderr, "ftcp-stat: pid %ld is gone\n", pid);
			break;
		}
		printf("\n");
		fflush(stdout);
		/* sleep returns early on Ctrl-C. */
		for (unsigned left = (unsigned)watch; left && !interrupted;)
			left = sleep(left);
		if (interrupted)
			break;
	}
	return rc < 0 ? 1 : 0;
}
