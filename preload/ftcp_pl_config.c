/*
 * ftcp_pl_config.c — FTCP_* environment variables.
 *
 * Every variable is checked; a bad one is refused with a message naming
 * it, never replaced by a default behind the user's back.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftcp_driver.h"

static int log_level = PL_WARN;

void pl_log(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	n = snprintf(buf, sizeof(buf), "libftcp[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (pl_real.write)
		(void)!pl_real.write(2, buf, (size_t)n);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_ip(const char *s, uint32_t *ip, int *prefix)
{
	unsigned a, b, c, d, p = 32;
	char tail;
	int n;

	if (prefix)
		n = sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &tail);
	else
		n = sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail);
	if (n != (prefix ? 5 : 4) || a > 255 || b > 255 || c > 255 || d > 255 || p < 1 || p > 32)
		return -1;
	*ip = a << 24 | b << 16 | c << 8 | d;
	if (prefix)
		*prefix = (int)p;
	return 0;
}

/* An unsigned number in [lo, hi] from name, or the default when unset. */
static int env_u32(const char *name, uint32_t def, uint32_t lo, uint32_t hi, uint32_t *out,
                   char *err, size_t errlen)
{
	const char *v = getenv(name);
	unsigned long long x;
	char *end;

	if (!v || !*v) {
		*out = def;
		return 0;
	}
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end || v[0] == '-' || x < lo || x > hi)
		return fail(err, errlen, "%s=\"%s\": expected a number from %u to %u", name, v, lo, hi);
	*out = (uint32_t)x;
	return 0;
}

static int env_str(const char *name, char *out, size_t len, char *err, size_t errlen)
{
	const char *v = getenv(name);

	out[0] = 0;
	if (!v)
		return 0;
	if (strlen(v) >= len)
		return fail(err, errlen, "%s: longer than %zu characters", name, len - 1);
	strcpy(out, v);
	return 0;
}

/* Default poll-thread CPU: the last one this process may use, if there
 * are at least two (the program keeps the others); inline otherwise. */
static int default_core(void)
{
	cpu_set_t set;
	int i, n = 0, last = -1;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -1;
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set)) {
			n++;
			last = i;
		}
	return n >= 2 ? last : -1;
}

int pl_config_load(struct pl_config *c, char *err, size_t errlen)
{
	const char *v;
	uint32_t x;
	int prefix;

	memset(c, 0, sizeof(*c));
	if (env_u32("FTCP_LOG", PL_WARN, 0, 3, &x, err, errlen) < 0)
		return -1;
	c->log_level = (int)x;
	log_level = c->log_level;
	v = getenv("FTCP_ON_FAIL");
	if (!v || !*v || !strcmp(v, "error"))
		c->on_fail = PL_FAIL_ERROR;
	else if (!strcmp(v, "kernel"))
		c->on_fail = PL_FAIL_KERNEL;
	else
		return fail(err, errlen, "FTCP_ON_FAIL=\"%s\": expected \"error\" or \"kernel\"", v);

	if (env_str("FTCP_EAL", c->eal, sizeof(c->eal), err, errlen) < 0)
		return -1;
	if (!c->eal[0])
		return fail(err, errlen, "FTCP_EAL is not set: give the DPDK EAL arguments, e.g. "
		                         "FTCP_EAL=\"-l 0 --vdev=net_af_xdp0,iface=eth1\"");
	if (env_str("FTCP_PORT", c->port, sizeof(c->port), err, errlen) < 0)
		return -1;
	v = getenv("FTCP_IP");
	if (!v || !*v)
		return fail(err, errlen, "FTCP_IP is not set: give the stack's address and prefix, "
		                         "e.g. FTCP_IP=10.0.0.2/24");
	if (parse_ip(v, &c->ip, &prefix) < 0)
		return fail(err, errlen, "FTCP_IP=\"%s\": expected A.B.C.D/LEN", v);
	c->prefix = (uint8_t)prefix;
	v = getenv("FTCP_GW");
	if (v && *v && parse_ip(v, &c->gw, NULL) < 0)
		return fail(err, errlen, "FTCP_GW=\"%s\": expected A.B.C.D", v);
	if (c->gw && (c->gw ^ c->ip) >> (32 - c->prefix) != 0)
		return fail(err, errlen, "FTCP_GW=\"%s\": not inside FTCP_IP's subnet", v);

	v = getenv("FTCP_CORE");
	if (!v || !*v)
		c->core = default_core();
	else if (!strcmp(v, "inline"))
		c->core = -1;
	else {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < 0 || n >= CPU_SETSIZE)
			return fail(err, errlen, "FTCP_CORE=\"%s\": expected a CPU number or \"inline\"", v);
		c->core = (int)n;
	}
	if (env_u32("FTCP_SPIN_US", 100, 0, 10000000, &c->spin_us, err, errlen) < 0 ||
	    env_u32("FTCP_IDLE_AFTER_US", FTCP_DRIVER_IDLE_AFTER_US, 0, 100000000, &c->idle_after_us,
	            err, errlen) < 0 ||
	    env_u32("FTCP_IDLE_SLEEP_US", FTCP_DRIVER_IDLE_SLEEP_US, 1, 1000000, &c->idle_sleep_us,
	            err, errlen) < 0 ||
	    env_u32("FTCP_MAX_SOCKETS", 1024, 4, 1u << 20, &c->max_sockets, err, errlen) < 0 ||
	    env_u32("FTCP_BUFFERS", 128, 1, 1u << 20, &c->buffers, err, errlen) < 0 ||
	    env_u32("FTCP_RXBUF", 256 << 10, 4096, 1u << 30, &c->rx_buffer_size, err, errlen) < 0 ||
	    env_u32("FTCP_TXBUF", 256 << 10, 4096, 1u << 30, &c->tx_buffer_size, err, errlen) < 0 ||
	    env_u32("FTCP_MBUFS", 8191, 512, 1u << 24, &c->mbufs, err, errlen) < 0 ||
	    env_u32("FTCP_MTU", 1500, 576, 9000, &c->mtu, err, errlen) < 0 ||
	    env_u32("FTCP_LINK_WAIT_MS", 3000, 0, 600000, &c->link_wait_ms, err, errlen) < 0 ||
	    env_u32("FTCP_TRUSTED_LINK", 0, 0, 1, &c->trusted_link, err, errlen) < 0)
		return -1;
	if (env_str("FTCP_CC", c->congestion, sizeof(c->congestion), err, errlen) < 0)
		return -1;
	if (c->congestion[0] && strcmp(c->congestion, "cubic") && strcmp(c->congestion, "newreno"))
		return fail(err, errlen, "FTCP_CC=\"%s\": expected \"cubic\" or \"newreno\"",
		            c->congestion);
	if (env_str("FTCP_DUMP_DIR", c->dump_dir, sizeof(c->dump_dir), err, errlen) < 0)
		return -1;
	if (!c->dump_dir[0])
		strcpy(c->dump_dir, "/run/ftcp");
	return 0;
}
