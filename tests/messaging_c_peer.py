"""Drives tests/c/messaging_publisher.c (a ctest test): the C program
publishes one message of each kind through pyrt's C API, this Python side
receives them with pyrt.messaging.Subscriber, checks every field, and confirms
with a command. Usage: python tests/messaging_c_peer.py PATH_TO_PROGRAM"""

import subprocess
import sys

from pyrt import messaging

EXPECTED = [
    ("market_data", messaging.MarketTick("BTC/USD", 50000.25, 50000.75, 50000.5, 1.25, 1700000000000001,
                                         "C-Exchange")),
    ("fill", messaging.FillReport("order-7", "fill-7", "ETH/USD", 2.5, 3000.125, -1, 0.5)),
    ("position", messaging.PositionSnapshot("BTC/USD", -0.5, 49000.0, 50000.5, -500.25, 12.5, 1700000000000002)),
    ("signal", messaging.TradingSignal("c-strategy", "BTC/USD", messaging.Action.BUY, 0.9, 2.0, 1700000000000003,
                                       {"macd": -0.25, "rsi": 71.5, "z": 3.0})),
    ("order", messaging.OrderRequest("order-8", "BTC/USD", messaging.Side.BUY, 0.1, 0.0,
                                     messaging.OrderType.MARKET, "c-strategy")),
]


def main() -> int:
    program = sys.argv[1]
    proc = subprocess.Popen([program], stdout=subprocess.PIPE, text=True)
    failures = 0
    try:
        pub_endpoint, command_endpoint = proc.stdout.readline().split()
        with messaging.Subscriber(pub_endpoint, ["*"]) as sub:
            for kind, message in EXPECTED:
                got = sub.receive(timeout_ms=20_000)
                if got != (kind, message):
                    print(f"expected {(kind, message)}\n     got {got}", file=sys.stderr)
                    failures += 1
            if sub.decode_errors:
                print(f"decode errors: {sub.decode_errors} ({sub.last_decode_error})", file=sys.stderr)
                failures += 1
        with messaging.CommandSender(command_endpoint) as sender:
            sender.send("STOP_TRADING", {"received": len(EXPECTED) - failures}, timeout_ms=20_000)
        code = proc.wait(timeout=30)
        if code != 0:
            print(f"{program} exited with {code}", file=sys.stderr)
            failures += 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"{len(EXPECTED) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
