/*  Message helpers the socket-pattern tests share: bounded sockets, sending and checking
    whole multipart messages.  */
#ifndef FERROZMQ_MSGUTIL_H
#define FERROZMQ_MSGUTIL_H

#include "testutil.h"
#include <stdarg.h>

static void *new_socket (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    TEST_ASSERT (s != NULL);
    int timeout = 2000;
    TEST_OK (zmq_setsockopt (s, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    int linger = 0;
    TEST_OK (zmq_setsockopt (s, ZMQ_LINGER, &linger, sizeof linger));
    return s;
}

static void send_str (void *s, const char *str, int flags)
{
    TEST_ASSERT (zmq_send (s, str, strlen (str), flags) == (int) strlen (str));
}

static int rcvmore (void *s)
{
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (s, ZMQ_RCVMORE, &more, &sz));
    return more;
}

static void recv_part (void *s, const char *expect, int more)
{
    char buf[256];
    int n = zmq_recv (s, buf, sizeof buf, 0);
    if (n != (int) strlen (expect) || memcmp (buf, expect, n) != 0) {
        fprintf (stderr, "expected '%s', got %d bytes '%.*s'\n", expect, n, n < 0 ? 0 : n, buf);
        TEST_ASSERT (0);
    }
    TEST_ASSERT (rcvmore (s) == more);
}

/*  Receives a whole message whose parts are the NULL-terminated strings given.  */
static void recv_msg (void *s, const char *first, ...)
{
    va_list ap;
    va_start (ap, first);
    const char *part = first;
    while (part) {
        const char *next = va_arg (ap, const char *);
        recv_part (s, part, next != NULL);
        part = next;
    }
    va_end (ap);
}

/*  Sends a whole message made of the NULL-terminated strings given.  */
static void send_msg (void *s, const char *first, ...)
{
    va_list ap;
    va_start (ap, first);
    const char *part = first;
    while (part) {
        const char *next = va_arg (ap, const char *);
        send_str (s, part, next ? ZMQ_SNDMORE : 0);
        part = next;
    }
    va_end (ap);
}

static int events (void *s)
{
    int ev;
    size_t sz = sizeof ev;
    TEST_OK (zmq_getsockopt (s, ZMQ_EVENTS, &ev, &sz));
    return ev;
}

#endif
