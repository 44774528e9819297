/*  ferrozmq: zmq_utils.h is kept for old programs. Everything it used to declare is in
    zmq.h, which this file includes; like libzmq's, it warns that it is deprecated.  */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#warning zmq_utils.h is deprecated.  All its functionality is provided by zmq.h.
#pragma GCC diagnostic pop
#endif
#include "zmq.h"
