/*
 * test_errno.c — every FTCP_E* code equals the errno of the same name on
 * this platform, so the BSD layer returns the core's codes unchanged. The
 * static assertions fail the build; the case reports it in the run too.
 */
#include <errno.h>

#include "ftcp/ftcp.h"
#include "ftcp_test.h"

#define SAME(name) _Static_assert(FTCP_##name == name, "FTCP_" #name " != " #name)
SAME(EBADF);
SAME(EAGAIN);
SAME(ENOMEM);
SAME(EINVAL);
SAME(EMFILE);
SAME(EPIPE);
SAME(EDESTADDRREQ);
SAME(EMSGSIZE);
SAME(EPROTOTYPE);
SAME(EOPNOTSUPP);
SAME(EADDRINUSE);
SAME(EADDRNOTAVAIL);
SAME(ENETUNREACH);
SAME(ECONNABORTED);
SAME(ECONNRESET);
SAME(ENOBUFS);
SAME(EISCONN);
SAME(ENOTCONN);
SAME(ETIMEDOUT);
SAME(ECONNREFUSED);
SAME(EHOSTUNREACH);
SAME(EALREADY);
SAME(EINPROGRESS);

static void test_errno_codes_equal_the_platform_errno(void)
{
	/* Checked at compile time above; spot-check at run time as well. */
	CU_ASSERT_EQUAL(FTCP_EAGAIN, EAGAIN);
	CU_ASSERT_EQUAL(FTCP_ECONNRESET, ECONNRESET);
	CU_ASSERT_EQUAL(FTCP_EINPROGRESS, EINPROGRESS);
}

void register_errno_tests(void);
void register_errno_tests(void)
{
	FTCP_SUITE("errno", FTCP_CASE(test_errno_codes_equal_the_platform_errno));
}
