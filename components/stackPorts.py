"""The stack's host ports (components/stackPorts.ts): python -c <this> PORT=ALIAS:PORT ...

Listens on every PORT and passes each connection to a container that has ALIAS on the stack's
network, reached at its PORT. Docker's DNS answers an alias with every running container that has
it, so while a replacement starts next to the container it replaces both are tried at once and
the first to accept gets the connection: neither the start of the new one nor the stop of the old
one leaves the port without a container behind it. When none accepts (a service restarting), the
connection waits and tries again, for up to RETRY_SECONDS.
"""
import asyncio
import socket
import sys

RETRY_SECONDS = 5.0
RETRY_EVERY = 0.1
CONNECT_SECONDS = 1.0
RESOLVE_SECONDS = 1.0


async def addresses(alias, port):
    """The addresses of the containers that have `alias`, as Docker's DNS gives them now."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(alias, port, family=socket.AF_INET, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def first_accepting(alias, port):
    """A connection to the first container of `alias` that accepts on `port`, or None."""
    try:
        tried = [asyncio.ensure_future(asyncio.wait_for(asyncio.open_connection(a, port), CONNECT_SECONDS)) for a in await addresses(alias, port)]
    except (OSError, asyncio.TimeoutError):
        return None
    chosen = None
    pending = set(tried)
    while pending and chosen is None:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for attempt in done:
            if attempt.cancelled() or attempt.exception() is not None:
                continue
            if chosen is None:
                chosen = attempt.result()
            else:
                attempt.result()[1].close()
    for attempt in pending:
        # The slower ones: closed if they connect after all.
        attempt.add_done_callback(lambda a: a.cancelled() or a.exception() is not None or a.result()[1].close())
    return chosen


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


def route(alias, port):
    async def serve(client_reader, client_writer):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_SECONDS
        upstream = await first_accepting(alias, port)
        while upstream is None and loop.time() < deadline:
            await asyncio.sleep(RETRY_EVERY)
            upstream = await first_accepting(alias, port)
        if upstream is None:
            print(f"no container of {alias} accepted on port {port} within {RETRY_SECONDS:g}s", flush=True)
            client_writer.close()
            return
        upstream_reader, upstream_writer = upstream
        try:
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        finally:
            upstream_writer.close()
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
