/*  For tests that are also checked against Debian's libzmq: built with -DLIBZMQ_REFERENCE
    (and linked with the system -lzmq) they prove they run on libzmq 4.3.4, otherwise on
    ferrozmq (which reports 4.3.5).  */
#ifndef FERROZMQ_REFUTIL_H
#define FERROZMQ_REFUTIL_H

#include "testutil.h"

static void ref_setup (unsigned seconds)
{
#ifdef LIBZMQ_REFERENCE
    alarm (seconds);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    if (major != 4 || minor != 3 || patch != 4) {
        fprintf (stderr, "LIBZMQ_REFERENCE build runs on %d.%d.%d, not Debian's 4.3.4\n", major,
                 minor, patch);
        abort ();
    }
#else
    test_setup (seconds);
#endif
}

#endif
