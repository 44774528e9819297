
/*  Capabilities a program may test for at compile time.  */
#define ZMQ_HAS_CAPABILITIES 1
#define ZMQ_HAVE_TIMERS

#ifdef ZMQ_BUILD_DRAFT_API
#define ZMQ_HAVE_POLLER

/*  Message property names for zmq_msg_gets.  */
#define ZMQ_MSG_PROPERTY_ROUTING_ID "Routing-Id"
#define ZMQ_MSG_PROPERTY_SOCKET_TYPE "Socket-Type"
#define ZMQ_MSG_PROPERTY_USER_ID "User-Id"
#define ZMQ_MSG_PROPERTY_PEER_ADDRESS "Peer-Address"
#endif

#undef ZMQ_EXPORT
#undef ZMQ_HAVE_SIGSET_T

#endif /* __ZMQ_H_INCLUDED__ */
