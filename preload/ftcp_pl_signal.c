/*
 * ftcp_pl_signal.c — knowing when a signal handler ran, and dying cleanly.
 *
 * A blocking call that spins in user space cannot be interrupted by the
 * kernel the way a sleeping one is, so the program's handlers run through a
 * trampoline that counts them: a waiting call sees the count move and
 * returns EINTR (or carries on, for a handler with SA_RESTART on a
 * restartable call). SIGTERM and SIGINT left at their default action get a
 * handler that resets the connections and releases the port before the
 * process dies of the signal.
 */
#include "ftcp_pl.h"

#include <errno.h>
#include <string.h>

static struct sigaction user_act[_NSIG];
static _Atomic bool wrapped[_NSIG];     /* the program's handler runs via the trampoline */
static _Atomic bool terminating[_NSIG]; /* our clean-exit handler stands for SIG_DFL */

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *a = &user_act[sig];

	atomic_fetch_add_explicit(&pl.sig_seq, 1, memory_order_relaxed);
	if (!(a->sa_flags & SA_RESTART))
		atomic_fetch_add_explicit(&pl.sig_norestart_seq, 1, memory_order_relaxed);
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, si, uc);
	else if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN)
		a->sa_handler(sig);
}

static void on_fatal(int sig)
{
	struct sigaction dfl;

	pl_terminate();
	/* Die of the signal as the program would have. Through the real
	 * sigaction: ours would put this handler back while the flag stands,
	 * and the re-raised signal would land here again, for ever. */
	atomic_store(&terminating[sig], false);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	pl_real.sigaction(sig, &dfl, NULL);
	raise(sig); /* pending until this handler returns and unblocks it */
}

static bool interceptable(int sig)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP;
}

PL_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine, prev;
	int rc;

	pl_libc_init();
	if (!interceptable(sig))
		return pl_real.sigaction(sig, act, old);
	if (!act) {
		rc = pl_real.sigaction(sig, NULL, &prev);
		if (rc == 0 && old)
			*old = atomic_load(&wrapped[sig]) ? user_act[sig]
			       : atomic_load(&terminating[sig]) ? (struct sigaction){.sa_handler = SIG_DFL}
			                                        : prev;
		return rc;
	}
	if (act->sa_handler == SIG_DFL || act->sa_handler == SIG_IGN) {
		if (act->sa_handler == SIG_DFL && atomic_load(&terminating[sig])) {
			/* Keep our clean exit standing in for the default. */
			if (old)
				*old = atomic_load(&wrapped[sig]) ? user_act[sig]
				                                  : (struct sigaction){.sa_handler = SIG_DFL};
			mine = *act;
			mine.sa_handler = on_fatal;
			mine.sa_flags &= ~SA_SIGINFO;
			rc = pl_real.sigaction(sig, &mine, NULL);
			if (rc == 0)
				atomic_store(&wrapped[sig], false);
			return rc;
		}
		rc = pl_real.sigaction(sig, act, &prev);
		if (rc == 0) {
			if (old)
				*old = atomic_load(&wrapped[sig]) ? user_act[sig] : prev;
			atomic_store(&wrapped[sig], false);
			atomic_store(&terminating[sig], false);
		}
		return rc;
	}
	mine = *act;
	mine.sa_flags |= SA_SIGINFO;
	mine.sa_sigaction = trampoline;
	/* Record before installing: the handler may fire at once. */
	prev = user_act[sig];
	{
		bool was = atomic_load(&wrapped[sig]);
		struct sigaction kernel_prev;

		user_act[sig] = *act;
		atomic_store(&wrapped[sig], true);
		rc = pl_real.sigaction(sig, &mine, &kernel_prev);
		if (rc < 0) {
			user_act[sig] = prev;
			atomic_store(&wrapped[sig], was);
			return rc;
		}
		if (old)
			*old = was ? prev
			       : atomic_load(&terminating[sig]) ? (struct sigaction){.sa_handler = SIG_DFL}
			                                        : kernel_prev;
	}
	return 0;
}

PL_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	struct sigaction a, old;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	a.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, sig > 0 && sig < _NSIG ? sig : 1);
	if (sigaction(sig, &a, &old) < 0)
		return SIG_ERR;
	return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void *)old.sa_sigaction : old.sa_handler;
}

/* Once the stack runs: fatal signals at their default action reset the
 * connections first. */
void pl_signal_started(void)
{
	static const int sigs[] = {SIGTERM, SIGINT};
	struct sigaction cur, mine;
	unsigned i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int sig = sigs[i];

		if (pl_real.sigaction(sig, NULL, &cur) < 0 || cur.sa_handler != SIG_DFL ||
		    (cur.sa_flags & SA_SIGINFO))
			continue;
		memset(&mine, 0, sizeof(mine));
		mine.sa_handler = on_fatal;
		sigemptyset(&mine.sa_mask);
		atomic_store(&terminating[sig], true);
		pl_real.sigaction(sig, &mine, NULL);
	}
}
