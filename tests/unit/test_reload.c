/*
 * test_reload.c — RCU publication (proxy/reload.c) with real threads: two
 * readers registered on the QSBR variable; one stalls while holding the
 * old object. The old object must not be freed (free callback count, and
 * the stalled reader still reads it intact) until that reader reports
 * quiescent; an offline (sleeping) reader never holds reclamation up; the
 * pending queue is bounded (-EBUSY).
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "reload.h"

struct obj {
	uint32_t magic; /* 0xfeed while alive */
	uint32_t gen;
};

static unsigned n_freed;

static void obj_free(void *p)
{
	struct obj *o = p;

	o->magic = 0xdead;
	__atomic_add_fetch(&n_freed, 1, __ATOMIC_SEQ_CST);
	free(o);
}

static struct obj *obj_new(uint32_t gen)
{
	struct obj *o = malloc(sizeof(*o));

	o->magic = 0xfeed;
	o->gen = gen;
	return o;
}

static void nap(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

static struct reload r;
static volatile int stall_hold, stall_holding, stop;
static volatile uint32_t seen_gen[2];
static volatile int bad_read;

/* Reader 0: a worker loop that never stalls. */
static void *reader_fast(void *arg)
{
	(void)arg;
	reload_thread_register(&r, 0);
	while (!stop) {
		const struct obj *o = reload_get(&r);

		if (o->magic != 0xfeed)
			bad_read = 1;
		seen_gen[0] = o->gen;
		reload_quiescent(&r, 0);
		sched_yield();
	}
	reload_thread_unregister(&r, 0);
	return NULL;
}

/* Reader 1: takes the object, then (while stall_hold) keeps it without
 * reporting quiescent: a worker stuck in a long iteration. */
static void *reader_stall(void *arg)
{
	(void)arg;
	reload_thread_register(&r, 1);
	while (!stop) {
		const struct obj *o = reload_get(&r);

		seen_gen[1] = o->gen;
		if (stall_hold) {
			stall_holding = 1;
			while (stall_hold && !stop) {
				if (o->magic != 0xfeed) /* freed under us */
					bad_read = 1;
				sched_yield();
			}
			stall_holding = 0;
		}
		reload_quiescent(&r, 1);
		sched_yield();
	}
	reload_thread_unregister(&r, 1);
	return NULL;
}

static void test_stalled_reader(void)
{
	pthread_t t0, t1;
	int i;

	n_freed = 0;
	CHECK_EQ(reload_init(&r, 2, obj_new(1), obj_free), 0);
	stall_hold = 1;
	pthread_create(&t0, NULL, reader_fast, NULL);
	pthread_create(&t1, NULL, reader_stall, NULL);
	while (!stall_holding)
		nap();
	CHECK_EQ(seen_gen[1], 1);
	/* publish generation 2 while reader 1 holds generation 1 */
	CHECK_EQ(reload_publish(&r, obj_new(2)), 0);
	CHECK_EQ(r.n_pending, 1);
	for (i = 0; i < 200; i++) { /* 200 ms of polling: never freed */
		CHECK_EQ(reload_reclaim(&r), 1);
		nap();
	}
	CHECK_EQ(n_freed, 0);
	CHECK_EQ(seen_gen[0], 2); /* the other reader moved on */
	/* the stalled reader reports quiescent: now it goes */
	stall_hold = 0;
	for (i = 0; i < 5000 && reload_reclaim(&r) != 0; i++)
		nap();
	CHECK_EQ(r.n_pending, 0);
	CHECK_EQ(n_freed, 1);
	CHECK_EQ(r.freed, 1);
	/* bounded: with reader 1 stalled again, RELOAD_PENDING_MAX old
	 * objects wait and the next publish is refused */
	stall_hold = 1;
	while (!stall_holding)
		nap();
	for (uint32_t g = 3; g < 3 + RELOAD_PENDING_MAX; g++)
		CHECK_EQ(reload_publish(&r, obj_new(g)), 0);
	CHECK_EQ(r.n_pending, RELOAD_PENDING_MAX);
	{
		struct obj *o = obj_new(99);

		CHECK_EQ(reload_publish(&r, o), -EBUSY);
		CHECK_EQ(((struct obj *)reload_get(&r))->gen, 2 + RELOAD_PENDING_MAX);
		free(o);
	}
	CHECK_EQ(n_freed, 1);
	stall_hold = 0;
	for (i = 0; i < 5000 && reload_reclaim(&r) != 0; i++)
		nap();
	CHECK_EQ(n_freed, 1 + RELOAD_PENDING_MAX);
	stop = 1;
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	CHECK_EQ(bad_read, 0);
	reload_fini(&r); /* the current one */
	CHECK_EQ(n_freed, 2 + RELOAD_PENDING_MAX);
}

/* A reader that is offline (asleep in the idle back-off) does not hold
 * reclamation up; one that is online and silent does. */
static void test_offline(void)
{
	n_freed = 0;
	CHECK_EQ(reload_init(&r, 3, obj_new(1), obj_free), 0);
	CHECK_EQ(reload_thread_register(&r, 2), 0);
	CHECK_EQ(reload_publish(&r, obj_new(2)), 0);
	CHECK_EQ(reload_reclaim(&r), 1); /* reader 2 online, silent */
	reload_offline(&r, 2);
	CHECK_EQ(reload_reclaim(&r), 0);
	CHECK_EQ(n_freed, 1);
	reload_online(&r, 2);
	CHECK_EQ(reload_publish(&r, obj_new(3)), 0);
	CHECK_EQ(reload_reclaim(&r), 1);
	reload_quiescent(&r, 2);
	CHECK_EQ(reload_reclaim(&r), 0);
	CHECK_EQ(n_freed, 2);
	/* ids beyond max_threads are refused */
	CHECK(reload_thread_register(&r, 3) != 0);
	reload_thread_unregister(&r, 2);
	reload_fini(&r);
	CHECK_EQ(n_freed, 3);
}

int main(void)
{
	test_offline();
	test_stalled_reader();
	return check_done("reload");
}
