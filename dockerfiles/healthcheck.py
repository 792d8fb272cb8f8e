"""Docker HEALTHCHECK probe of every fleet image: GET /health on $HEALTH_PORT.

Healthy (exit 0) only when the answer is 200 with exactly {"status":"ok"}; anything else is
unhealthy (exit 1), which is Docker's contract for HEALTHCHECK commands. Standard library only,
so no image needs curl (CIS Docker Benchmark 4.3: minimal packages).
"""
import os
import sys
import urllib.request

EXPECTED = b'{"status":"ok"}'


def main() -> int:
    port = os.environ.get("HEALTH_PORT", "")
    if not port.isdigit():
        print(f"HEALTH_PORT must be a port number; got {port!r}", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}/health"
    # No proxy: a proxy variable in the container environment must not capture a loopback probe.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT_S", "2"))) as resp:
            body = resp.read(64)
            status = resp.status
    except (OSError, ValueError) as err:
        print(f"{url}: {err}", file=sys.stderr)
        return 1
    if status != 200 or body.strip() != EXPECTED:
        print(f"{url}: expected 200 {EXPECTED!r}, got {status} {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
