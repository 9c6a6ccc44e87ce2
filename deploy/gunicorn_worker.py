"""gunicorn's sync worker, sending each answer in one write (``gunicorn.conf.py`` uses it).

gunicorn writes a response's head and its body with separate sends: two ``sendto`` calls
even for a one-piece body with a Content-Length, more for a body in several pieces. An
instance that dies between them (SIGKILL, the OOM killer) leaves nginx holding a complete
head: nginx has already begun the visitor's answer, so it can no longer pass the request
to another instance, and the reader gets a page cut short (nginx logs "upstream
prematurely closed connection while reading upstream"). ``bench/load.py --stack`` saw it
once in four short runs.

:class:`OneWriteSyncWorker` holds everything a response writes and sends it with one
``sendall`` once the response is complete. The instance then dies either before that
send (nginx has received nothing, so it passes a GET to the next instance and answers a
POST with 502, never resent: ``deploy/nginx.conf``) or after it (the bytes are in the
kernel's send buffer, which a dead process's socket still delivers, then closes). One
``sendall`` is not interrupted half way while the send buffer has room for the whole
answer: on 127.0.0.1 Linux gives a connection megabytes, far above any page; a machine
that dies whole sends nothing at all, which nginx handles as the first case.

A response that grows past :data:`HOLD_LIMIT` (1 MiB: a large download) is sent as it comes
from there on, as the plain sync worker does; so is a file sent with ``sendfile``. A
response that fails after gunicorn "sent" its head sends nothing at all (gunicorn closes
the connection), so nginx treats it as an instance that did not answer. The only other
difference from ``sync``: ``100 Continue`` still goes out at once, early hints (103)
wait for the answer (the site sends none).
"""

from gunicorn.workers.sync import SyncWorker

HOLD_LIMIT = 1024 * 1024  # bytes held before a response is sent as it comes


class HeldAnswer:
    """The client socket as gunicorn's ``Response`` sees it: what it sends is held until
    :meth:`flush`; every other use (reading, closing, ``fileno``) goes to the socket."""

    def __init__(self, sock, limit=HOLD_LIMIT):
        self._sock = sock
        self._limit = limit
        self._held = []
        self._size = 0
        self._passing = False  # past the limit: straight to the socket

    def sendall(self, data):
        if self._passing:
            return self._sock.sendall(data)
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size > self._limit:
            self.flush()
            self._passing = True
        return None

    def sendfile(self, file, offset=0, count=None):
        self.flush()
        self._passing = True
        return self._sock.sendfile(file, offset, count)

    def flush(self):
        """Send what is held, in one write."""
        if self._held:
            data = b"".join(self._held)
            self._held, self._size = [], 0
            self._sock.sendall(data)

    def discard(self):
        self._held, self._size = [], 0

    def __getattr__(self, name):
        return getattr(self._sock, name)


class OneWriteSyncWorker(SyncWorker):
    """``sync``, with each complete answer sent in one write (see the module's text)."""

    def handle_request(self, listener, req, client, addr):
        answer = HeldAnswer(client)
        try:
            super().handle_request(listener, req, answer, addr)
        except BaseException:
            # Either nothing was written yet (gunicorn answers 500 on the socket itself)
            # or the response failed half way: nothing of it goes out.
            answer.discard()
            raise
        answer.flush()
