"""adprep's relay: runs on a remote vantage (an instance in AD Connector's subnets) and only opens sockets.

Sent over SSH to the far end's ``python3`` and run from memory: nothing is installed there, nothing
is written. Stdlib only, and Python 3.7 or newer (Amazon Linux 2 ships 3.7), so no walrus, no
``asyncio.timeout``, and ``asyncio.TimeoutError`` (not the builtin, before 3.11). It speaks the JSON
lines protocol documented in ``adprep/wire/relay.py``: adprep builds every request and decodes every
reply; the relay sends bytes, waits, and says what came back and from which source address.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import platform
import socket
import sys
import threading
import time

PROTOCOL_VERSION = 1
MIN_PYTHON = (3, 7)
#: Bounds what one framed TCP reply may hold (a hostile peer cannot make the relay hoard memory).
MAX_REPLY = 1 << 20
_HEADER = {"u16": 2, "u32": 4, "dcerpc": 10}


def _errno_name(e: OSError) -> str:
    return errno.errorcode.get(e.errno or 0, str(e.errno))


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class Relay:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.out_lock = threading.Lock()

    def write(self, obj: object) -> None:
        line = json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n"
        with self.out_lock:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()

    async def resolve(self, host: str, port: int, kind: int) -> str:
        infos = await self.loop.getaddrinfo(host, port, type=kind)
        return str(infos[0][4][0])

    # -- ops -------------------------------------------------------------------------------------

    async def op_tcp(self, op: dict) -> dict:  # type: ignore[type-arg]
        started = time.monotonic()
        sock = None
        try:
            address = await self.resolve(op["host"], op["port"], socket.SOCK_STREAM)
            sock = socket.socket(_family(address), socket.SOCK_STREAM)
            sock.setblocking(False)
            # Close with RST, not FIN: no TIME_WAIT pile-up when sweeping many ports.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            await asyncio.wait_for(self.loop.sock_connect(sock, (address, op["port"])), op["timeout"])
            return self.result("open", started, source=sock.getsockname()[0], address=address)
        except asyncio.TimeoutError:
            return self.result("timeout", started)
        except ConnectionRefusedError:
            return self.result("refused", started, errno="ECONNREFUSED")
        except socket.gaierror as e:
            return self.result("error", started, errno="EAI_NONAME", detail=str(e))
        except OSError as e:
            return self.result("error", started, errno=_errno_name(e))
        finally:
            if sock is not None:
                sock.close()

    async def op_udp(self, op: dict) -> dict:  # type: ignore[type-arg]
        started = time.monotonic()
        datagrams = [base64.b64decode(d) for d in op["data"]]
        timeout, interval = float(op["timeout"]), float(op.get("interval") or op["timeout"])
        attempts = 0
        sock = None
        source = None
        recv = None
        try:
            address = await self.resolve(op["host"], op["port"], socket.SOCK_DGRAM)
            sock = socket.socket(_family(address), socket.SOCK_DGRAM)
            sock.setblocking(False)
            # Connected: the kernel then reports ICMP port unreachable to us as ECONNREFUSED.
            sock.connect((address, op["port"]))
            source = sock.getsockname()[0]
            deadline = started + timeout
            recv = asyncio.ensure_future(self.loop.sock_recv(sock, 65535))
            while True:
                if attempts < len(datagrams):
                    sock.send(datagrams[attempts])
                    attempts += 1
                next_send = started + attempts * interval if attempts < len(datagrams) else deadline
                wait = max(min(next_send, deadline) - time.monotonic(), 0.0)
                done, _ = await asyncio.wait({recv}, timeout=wait)
                if recv in done:
                    reply = recv.result()
                    return self.result("reply", started, attempts=attempts, reply=_b64(reply), source=source,
                                       address=address)  # fmt: skip
                if time.monotonic() >= deadline:
                    return self.result("silent", started, attempts=attempts, source=source, address=address)
        except ConnectionRefusedError:
            return self.result("refused", started, attempts=attempts, errno="ECONNREFUSED", source=source)
        except socket.gaierror as e:
            return self.result("error", started, attempts=attempts, errno="EAI_NONAME", detail=str(e))
        except OSError as e:
            return self.result("error", started, attempts=attempts, errno=_errno_name(e), source=source)
        finally:
            if recv is not None and not recv.done():
                recv.cancel()
            if sock is not None:
                sock.close()

    async def op_tcpx(self, op: dict) -> dict:  # type: ignore[type-arg]
        started = time.monotonic()
        framing = op["framing"]
        if framing not in _HEADER:
            return self.result("error", started, errno="EINVAL", detail="unknown framing")
        replies = []  # type: list[str]
        source = None
        try:
            address = await self.resolve(op["host"], op["port"], socket.SOCK_STREAM)
            conversation = self.converse(address, op["port"], [base64.b64decode(d) for d in op["data"]],
                                         framing, replies)  # fmt: skip
            source = await asyncio.wait_for(conversation, op["timeout"])
            return self.result("reply", started, replies=replies, source=source, address=address)
        except asyncio.TimeoutError:
            return self.result("timeout", started, replies=replies)
        except ConnectionRefusedError:
            return self.result("refused", started, errno="ECONNREFUSED", replies=replies)
        except asyncio.IncompleteReadError:
            return self.result("closed", started, replies=replies)
        except socket.gaierror as e:
            return self.result("error", started, errno="EAI_NONAME", detail=str(e))
        except ValueError as e:
            return self.result("error", started, errno="EMSGSIZE", detail=str(e), replies=replies)
        except OSError as e:
            return self.result("error", started, errno=_errno_name(e), replies=replies)

    async def converse(self, address: str, port: int, messages: list, framing: str, replies: list) -> str:  # type: ignore[type-arg]
        reader, writer = await asyncio.open_connection(address, port)
        try:
            source = writer.get_extra_info("sockname")[0]
            for message in messages:
                writer.write(message)
                await writer.drain()
                replies.append(_b64(await self.read_framed(reader, framing)))
            return str(source)
        finally:
            writer.close()

    async def read_framed(self, reader: asyncio.StreamReader, framing: str) -> bytes:
        if framing == "dcerpc":
            # C706 §12.6: a PDU's frag_length (bytes 8-9, little-endian in the usual data
            # representation) covers the whole fragment; read fragments up to PFC_LAST_FRAG.
            whole = b""
            while True:
                head = await reader.readexactly(10)
                size = int.from_bytes(head[8:10], "little")
                if size < 10 or len(whole) + size > MAX_REPLY:
                    raise ValueError("DCE/RPC fragment length out of bounds")
                whole += head + await reader.readexactly(size - 10)
                if head[3] & 0x02:
                    return whole
        head = await reader.readexactly(_HEADER[framing])
        size = int.from_bytes(head, "big")
        if size > MAX_REPLY:
            raise ValueError("reply longer than the relay accepts")
        return head + await reader.readexactly(size)

    async def op_route(self, op: dict) -> dict:  # type: ignore[type-arg]
        try:
            address = await self.resolve(op["host"], 9, socket.SOCK_DGRAM)
            with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
                sock.connect((address, 9))  # selects a route and a source address; sends nothing
                return {"source": sock.getsockname()[0]}
        except OSError:
            return {"source": None}

    # -- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def result(outcome: str, started: float, **kw: object) -> dict:  # type: ignore[type-arg]
        out = {"outcome": outcome, "ms": round((time.monotonic() - started) * 1000, 2), "errno": None,
               "source": None}  # fmt: skip
        out.update(kw)
        return out

    async def run_op(self, op: dict, limit: asyncio.Semaphore) -> dict:  # type: ignore[type-arg]
        handler = getattr(self, "op_" + str(op.get("op")), None)
        if handler is None:
            return {"outcome": "error", "errno": "EINVAL", "detail": "unknown op"}
        async with limit:
            try:
                return await handler(op)  # type: ignore[no-any-return]
            except (KeyError, TypeError, ValueError) as e:
                return {"outcome": "error", "errno": "EINVAL", "detail": type(e).__name__ + ": " + str(e)}

    async def run_batch(self, batch: dict) -> None:  # type: ignore[type-arg]
        limit = asyncio.Semaphore(max(1, int(batch.get("concurrency") or 256)))
        batch_id = batch.get("id")

        async def one(index: int, op: dict) -> None:  # type: ignore[type-arg]
            # Each result as soon as it is done: a quick probe is not held back by a slow one.
            self.write({"id": batch_id, "i": index, "result": await self.run_op(op, limit)})

        await asyncio.gather(*(one(i, op) for i, op in enumerate(batch.get("ops", []))))

    async def serve(self) -> None:
        lines = asyncio.Queue()  # type: asyncio.Queue[bytes]

        def read_stdin() -> None:
            # Blocking reads in a thread: portable (pipes, ptys) and shares sys.stdin.buffer's
            # buffer with the bootstrap that read this script's own line.
            while True:
                line = sys.stdin.buffer.readline()
                self.loop.call_soon_threadsafe(lines.put_nowait, line)
                if not line:
                    return

        threading.Thread(target=read_stdin, daemon=True).start()
        running = set()
        while True:
            line = await lines.get()
            if not line:
                break
            if not line.strip():
                continue
            try:
                batch = json.loads(line.decode("utf-8"))
            except ValueError:
                self.write({"id": None, "error": "a batch line that is not JSON"})
                continue
            task = asyncio.ensure_future(self.run_batch(batch))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def main() -> None:
    hello = {"relay": "adprep", "v": PROTOCOL_VERSION, "impl": "python", "version": platform.python_version(),
             "host": socket.gethostname()}  # fmt: skip
    if sys.version_info < MIN_PYTHON:
        hello["error"] = "Python %s is older than 3.7, which adprep's relay needs" % platform.python_version()
        sys.stdout.write(json.dumps(hello) + "\n")
        sys.stdout.flush()
        return
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    relay = Relay(loop)
    relay.write(hello)
    try:
        loop.run_until_complete(relay.serve())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
