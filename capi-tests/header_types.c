/*  Compiled, never linked or run, by tests/header.rs (header_compiles_strictly): once against
    our include/zmq.h and once against Debian's libzmq zmq.h, as C99, GNU11 and C++11, with and
    without ZMQ_BUILD_DRAFT_API, with -Wall -Wextra -Werror (and -pedantic for C).

    It uses every public type the way C programs and bindings do and pins the layouts that
    must match libzmq's on LP64 (x86_64 Linux): a program compiled against libzmq's header
    hands these structures to our library, and the other way round.

    Its name does not start with test_, so the C test harness (tests/capi.rs) leaves it alone.
*/
#include <zmq.h>
#include <stddef.h>

#if defined(__cplusplus)
#define CHECK(cond, msg) static_assert (cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define CHECK(cond, msg) _Static_assert (cond, msg)
#else
/*  C99 has no static assertion: an array of negative size stops the build instead.  */
#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2 (a, b)
#define CHECK(cond, msg) typedef char CHECK_CAT (check_at_line_, __LINE__)[(cond) ? 1 : -1]
#endif

/*  The compile-time version test bindings use (cppzmq, pyzmq's zmq_compat.h).  */
#if !defined(ZMQ_VERSION) || !defined(ZMQ_MAKE_VERSION)
#error ZMQ_VERSION and ZMQ_MAKE_VERSION must be macros
#endif
#if ZMQ_VERSION < ZMQ_MAKE_VERSION(4, 3, 4) || ZMQ_VERSION_MAJOR != 4
#error ZMQ_VERSION is not 4.3.x
#endif
#ifndef ZMQ_HAVE_TIMERS
#error ZMQ_HAVE_TIMERS is not defined
#endif
#if defined(ZMQ_BUILD_DRAFT_API) && !defined(ZMQ_HAVE_POLLER)
#error ZMQ_HAVE_POLLER is not defined with ZMQ_BUILD_DRAFT_API
#endif
#if !defined(EFSM) || !defined(ENOCOMPATPROTO) || !defined(ETERM) || !defined(EMTHREAD)
#error the 0MQ error numbers are not defined
#endif

CHECK (sizeof (void *) == 8, "these layouts are the LP64 ones");

/*  zmq_msg_t: 64 opaque bytes, pointer-aligned.  */
struct header_msg_in_struct
{
    char c;
    zmq_msg_t msg;
};
CHECK (sizeof (zmq_msg_t) == 64, "zmq_msg_t is 64 bytes");
CHECK (offsetof (struct header_msg_in_struct, msg) == 8, "zmq_msg_t is 8-byte aligned");
CHECK (sizeof (struct header_msg_in_struct) == 72, "zmq_msg_t is 8-byte aligned");

/*  zmq_pollitem_t { void *socket; zmq_fd_t fd; short events; short revents; }  */
struct header_pollitem_in_struct
{
    char c;
    zmq_pollitem_t item;
};
CHECK (sizeof (zmq_pollitem_t) == 16, "zmq_pollitem_t is 16 bytes");
CHECK (offsetof (zmq_pollitem_t, socket) == 0, "zmq_pollitem_t.socket at 0");
CHECK (offsetof (zmq_pollitem_t, fd) == 8, "zmq_pollitem_t.fd at 8");
CHECK (offsetof (zmq_pollitem_t, events) == 12, "zmq_pollitem_t.events at 12");
CHECK (offsetof (zmq_pollitem_t, revents) == 14, "zmq_pollitem_t.revents at 14");
CHECK (offsetof (struct header_pollitem_in_struct, item) == 8,
       "zmq_pollitem_t is 8-byte aligned");

/*  zmq_fd_t is int on POSIX: a zmq_fd_t * and an int * are the same pointer type (C warns
    about a signedness or size mismatch, which -Werror turns into an error; C++ refuses).  */
CHECK (sizeof (zmq_fd_t) == sizeof (int), "zmq_fd_t is an int");
zmq_fd_t *header_fd_is_int (int *fd);
zmq_fd_t *header_fd_is_int (int *fd)
{
    return fd;
}

#ifdef ZMQ_BUILD_DRAFT_API
/*  zmq_poller_event_t { void *socket; zmq_fd_t fd; void *user_data; short events; }  */
CHECK (sizeof (zmq_poller_event_t) == 32, "zmq_poller_event_t is 32 bytes");
CHECK (offsetof (zmq_poller_event_t, socket) == 0, "zmq_poller_event_t.socket at 0");
CHECK (offsetof (zmq_poller_event_t, fd) == 8, "zmq_poller_event_t.fd at 8");
CHECK (offsetof (zmq_poller_event_t, user_data) == 16, "zmq_poller_event_t.user_data at 16");
CHECK (offsetof (zmq_poller_event_t, events) == 24, "zmq_poller_event_t.events at 24");
#endif

/*  The callback types are function types, used through pointers as libzmq's users do.  */
static void header_free (void *data_, void *hint_)
{
    (void) data_;
    (void) hint_;
}

static void header_timer (int timer_id_, void *arg_)
{
    (void) timer_id_;
    (void) arg_;
}

static void header_thread (void *arg_)
{
    (void) arg_;
}

zmq_free_fn *header_free_fn = header_free;
zmq_timer_fn *header_timer_fn = header_timer;
zmq_thread_fn *header_thread_fn = header_thread;

/*  Calls through the declarations with each type, so each prototype is exercised.  */
int header_use_types (void *socket_, void *timers_);
int header_use_types (void *socket_, void *timers_)
{
    zmq_msg_t msg;
    zmq_msg_t copy;
    zmq_pollitem_t items[2];
    char data[8] = "payload";
    int rc = zmq_msg_init_data (&msg, data, sizeof data, header_free_fn, NULL);
    rc += zmq_msg_init (&copy);
    rc += zmq_msg_copy (&copy, &msg);
    rc += zmq_msg_close (&copy);
    rc += zmq_msg_close (&msg);

    items[0].socket = socket_;
    items[0].fd = 0;
    items[0].events = ZMQ_POLLIN | ZMQ_POLLOUT;
    items[0].revents = 0;
    items[1].socket = NULL;
    items[1].fd = (zmq_fd_t) 0;
    items[1].events = ZMQ_POLLERR | ZMQ_POLLPRI;
    items[1].revents = 0;
    rc += zmq_poll (items, 2, -1L);

    rc += zmq_timers_add (timers_, 10, header_timer, NULL);
    rc += zmq_timers_add (timers_, 10, header_timer_fn, NULL);
    zmq_threadclose (zmq_threadstart (header_thread_fn, NULL));
    zmq_threadclose (zmq_threadstart (header_thread, NULL));

    rc += zmq_send (socket_, data, sizeof data, ZMQ_DONTWAIT | ZMQ_SNDMORE);
    rc += zmq_setsockopt (socket_, ZMQ_IDENTITY, "id", 2);
    rc += ETERM + EFSM + ZMQ_EVENT_ALL;

#ifdef ZMQ_BUILD_DRAFT_API
    {
        void *poller = zmq_poller_new ();
        zmq_poller_event_t events[4];
        zmq_fd_t fd = 0;
        rc += zmq_poller_add (poller, socket_, NULL, ZMQ_POLLIN);
        rc += zmq_poller_add_fd (poller, fd, NULL, ZMQ_POLLIN);
        rc += zmq_poller_wait (poller, &events[0], 0);
        rc += zmq_poller_wait_all (poller, events, 4, 0);
        rc += zmq_poller_fd (poller, &fd);
        rc += zmq_poller_destroy (&poller);
        rc += zmq_msg_set_routing_id (&msg, 1u);
        rc += (int) zmq_msg_routing_id (&msg);
        rc += ZMQ_SERVER + ZMQ_CLIENT + ZMQ_RADIO + ZMQ_DISH;
    }
#endif
    return rc;
}
