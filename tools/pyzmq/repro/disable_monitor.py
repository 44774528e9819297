# pyzmq's Socket.disable_monitor() must deliver EVENT_MONITOR_STOPPED to the monitor socket.
import sys, zmq
from zmq.utils.monitor import recv_monitor_message
ctx = zmq.Context()
s = ctx.socket(zmq.PULL)
m = s.get_monitor_socket()          # zmq_socket_monitor(s, "inproc://monitor.s-N", ZMQ_EVENT_ALL)
s.bind('tcp://127.0.0.1:0')
print(zmq.zmq_version(), "first event:", recv_monitor_message(m)['event'])
s.disable_monitor()                 # zmq_socket_monitor(s, NULL, 0)
m.rcvtimeo = 2000
try:
    print("after disable_monitor:", recv_monitor_message(m))
except zmq.Again:
    print("after disable_monitor: nothing within 2 s (expected EVENT_MONITOR_STOPPED)")
    sys.exit(1)
finally:
    m.close(); s.close(); ctx.term()
