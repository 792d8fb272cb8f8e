"""The stack's host ports (components/stackPorts.ts): python -c <this> PORT=ALIAS:PORT ...

Listens on every PORT and passes each connection to a container that has ALIAS on the stack's
network, reached at its PORT. Docker's DNS answers an alias with every running container that has
it, so while a replacement starts next to the container it replaces both are tried at once and
the first to accept gets the connection: neither the start of the new one nor the stop of the old
one leaves the port without a container behind it. When none accepts (a service restarting), the
connection waits and tries again, for up to RETRY_SECONDS. A container that closes a connection
without a byte of answer (it was being stopped) has the request sent again to another container,
as a reverse proxy's "next upstream" does.
"""
import asyncio
import socket
import sys

RETRY_SECONDS = 5.0
RETRY_EVERY = 0.1
CONNECT_SECONDS = 1.0
RESOLVE_SECONDS = 1.0
# A request that a container closed without answering is sent again to another one, when it was
# at most REPLAY_BYTES (what a health check or an API call sends) and at most REPLAYS times.
REPLAY_BYTES = 65536
REPLAYS = 2


async def addresses(alias, port):
    """The addresses of the containers that have `alias`, as Docker's DNS gives them now."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(alias, port, family=socket.AF_INET, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def first_accepting(alias, port, avoid):
    """A connection to the first container of `alias` that accepts on `port`, as (address, reader, writer), or None.

    Addresses in `avoid` (containers that closed a connection without answering) are tried only
    when no other container has the alias.
    """
    try:
        found = await addresses(alias, port)
    except (OSError, asyncio.TimeoutError):
        return None
    found = [a for a in found if a not in avoid] or found

    async def attempt(address):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_SECONDS)
        return address, reader, writer

    chosen = None
    pending = {asyncio.ensure_future(attempt(a)) for a in found}
    while pending and chosen is None:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.cancelled() or task.exception() is not None:
                continue
            if chosen is None:
                chosen = task.result()
            else:
                task.result()[2].close()
    for task in pending:
        # The slower ones: closed if they connect after all.
        task.add_done_callback(lambda t: t.cancelled() or t.exception() is not None or t.result()[2].close())
    return chosen


async def connect(alias, port, avoid):
    """first_accepting, tried again every RETRY_EVERY for up to RETRY_SECONDS (a service restarting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RETRY_SECONDS
    upstream = await first_accepting(alias, port, avoid)
    while upstream is None and loop.time() < deadline:
        await asyncio.sleep(RETRY_EVERY)
        upstream = await first_accepting(alias, port, avoid)
    return upstream


async def pipe(reader, writer):
    """Copies `reader` to `writer` until its end, which it passes on; a broken side ends both."""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()


class Request:
    """What the client sent before the service's first byte, kept to send again to another container."""

    def __init__(self, reader):
        self.reader = reader
        self.sent = bytearray()
        self.ended = False
        self.answered = False

    def replayable(self):
        return not self.answered and len(self.sent) <= REPLAY_BYTES

    async def forward(self, writer):
        """Copies the client to `writer` (one container) until the client's end, keeping what it copied."""
        try:
            if self.sent:
                writer.write(bytes(self.sent))
            while not self.ended:
                data = await self.reader.read(65536)
                if not data:
                    self.ended = True
                    break
                if not self.answered:
                    self.sent += data
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            await writer.drain()
        except OSError:
            pass


def route(alias, port):
    async def serve(client_reader, client_writer):
        request = Request(client_reader)
        avoid = set()
        tries = 0
        try:
            while True:
                tries += 1
                upstream = await connect(alias, port, avoid)
                if upstream is None:
                    print(f"no container of {alias} accepted on port {port} within {RETRY_SECONDS:g}s", flush=True)
                    return
                address, reader, writer = upstream
                forwarding = asyncio.ensure_future(request.forward(writer))
                try:
                    first = await reader.read(65536)
                except OSError:
                    first = b""
                if not first:
                    # Closed without a byte of answer: a container that is stopping. Another one
                    # gets the request, from its first byte, while nothing has reached the client.
                    forwarding.cancel()
                    writer.close()
                    avoid.add(address)
                    # A client that ended without sending anything (a port check) has nothing to answer.
                    if (request.sent or not request.ended) and request.replayable() and tries <= REPLAYS:
                        continue
                    return
                request.answered = True
                client_writer.write(first)
                await client_writer.drain()
                try:
                    await asyncio.gather(forwarding, pipe(reader, client_writer))
                finally:
                    writer.close()
                return
        except OSError:
            pass
        finally:
            client_writer.close()

    return serve


async def main(routes):
    servers = []
    for listen, alias, port in routes:
        servers.append(await asyncio.start_server(route(alias, port), "0.0.0.0", listen, reuse_address=True))
    print("forwarding " + ", ".join(f"{listen} -> {alias}:{port}" for listen, alias, port in routes), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def parse(arg):
    listen, target = arg.split("=", 1)
    alias, port = target.rsplit(":", 1)
    return int(listen), alias, int(port)


if __name__ == "__main__":
    asyncio.run(main([parse(a) for a in sys.argv[1:]]))
