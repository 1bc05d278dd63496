"""ZeroMQ PUB/SUB of protobuf messages, and a command channel, from the Rust core.

Wire format: a two-frame ZeroMQ message ``[topic, protobuf bytes]`` with the
messages of ``proto/messages.proto`` (package ``py_rt``) under the topics
``market.<SYMBOL>`` (MarketTick), ``fills`` (FillReport), ``positions``
(PositionSnapshot), ``signals`` (TradingSignal) and ``orders`` (OrderRequest).
Any ZeroMQ client holding the .proto file interoperates; pyrt itself needs
neither pyzmq nor protobuf: encoding and decoding happen in Rust.

A :class:`Publisher` binds, a :class:`Subscriber` connects. ZeroMQ drops,
silently, what is published before a subscriber has connected (the "slow
joiner") and what finds a subscriber's queue full (the high-water marks
``sndhwm``/``rcvhwm``, 1000 messages by default as in pyzmq);
:meth:`Publisher.wait_for_subscribers` waits until subscribers are there.

Threads: every object here may be shared. ZeroMQ sockets are not
thread-safe, so the core serializes the calls on one object (a second
`send` waits for the first's acknowledgement; two threads receiving from one
subscriber each get whole messages). `close()` from any thread ends a
receive or send waiting on the object within 50 ms (it raises ValueError,
"... closed"), and every later call raises ValueError. Copies raise
TypeError. Every call releases the GIL.

What is refused: strings with a NUL character or longer than 1024 bytes
(symbols, ids, feature keys, topics, endpoints), endpoints that are not
``tcp://host:port`` (port 0 to 65535 or ``*``), ``ipc://path`` or
``inproc://name``; a subscriber drops, unread, any message larger than its
``max_message_size`` (1 MiB by default) and counts it in :attr:`Subscriber.oversized`.
"""

from __future__ import annotations

import enum
import json
import threading
import time
from typing import Any, Dict, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._core import PyrtTimeoutError, PyrtValueError, check, ffi, lib, struct_dtype
from ._handle import Handle

__all__ = [
    "Publisher",
    "Subscriber",
    "CommandSender",
    "CommandReceiver",
    "MarketTick",
    "OrderRequest",
    "FillReport",
    "PositionSnapshot",
    "TradingSignal",
    "Command",
    "Side",
    "OrderType",
    "Action",
    "CommandType",
    "TICK_DTYPE",
    "DEFAULT_HWM",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MAX_NAME_LEN",
    "PyrtTimeoutError",
]

DEFAULT_HWM: int = lib.PYRT_DEFAULT_HWM
"""ZeroMQ's default high-water mark (messages queued per peer), as in pyzmq."""

DEFAULT_MAX_MESSAGE_SIZE: int = lib.PYRT_DEFAULT_MAX_MESSAGE_SIZE
"""The largest message (topic and payload bytes) a subscriber takes by default: 1 MiB."""

MAX_NAME_LEN: int = lib.PYRT_MAX_NAME_LEN
"""The longest symbol, id, feature key, topic or endpoint, in UTF-8 bytes."""


# The enums' values come from the library's constants (one definition, in
# the C layer, of the .proto's values).


class Side(enum.IntEnum):
    """OrderRequest.Side (the values of `pyrt.BUY`/`pyrt.SELL`)."""

    BUY = lib.PYRT_ORDER_SIDE_BUY
    SELL = lib.PYRT_ORDER_SIDE_SELL


class OrderType(enum.IntEnum):
    """OrderRequest.OrderType."""

    MARKET = lib.PYRT_ORDER_TYPE_MARKET
    LIMIT = lib.PYRT_ORDER_TYPE_LIMIT
    STOP = lib.PYRT_ORDER_TYPE_STOP
    STOP_LIMIT = lib.PYRT_ORDER_TYPE_STOP_LIMIT


class Action(enum.IntEnum):
    """TradingSignal.Action."""

    NONE = lib.PYRT_TRADING_SIGNAL_NONE
    BUY = lib.PYRT_TRADING_SIGNAL_BUY
    SELL = lib.PYRT_TRADING_SIGNAL_SELL
    CLOSE = lib.PYRT_TRADING_SIGNAL_CLOSE


class CommandType(enum.IntEnum):
    """Command.Type."""

    START_TRADING = lib.PYRT_COMMAND_START_TRADING
    STOP_TRADING = lib.PYRT_COMMAND_STOP_TRADING
    UPDATE_STRATEGY = lib.PYRT_COMMAND_UPDATE_STRATEGY
    UPDATE_RISK_LIMITS = lib.PYRT_COMMAND_UPDATE_RISK_LIMITS
    RELOAD_MODEL = lib.PYRT_COMMAND_RELOAD_MODEL


class MarketTick(NamedTuple):
    """A received MarketTick (topic ``market.<symbol>``)."""

    symbol: str
    bid: float
    ask: float
    last: float
    volume: float
    timestamp_us: int
    exchange: str


class OrderRequest(NamedTuple):
    """A received OrderRequest (topic ``orders``)."""

    order_id: str
    symbol: str
    side: int
    quantity: float
    price: float
    order_type: int
    strategy_id: str


class FillReport(NamedTuple):
    """A received FillReport (topic ``fills``)."""

    order_id: str
    fill_id: str
    symbol: str
    filled_quantity: float
    fill_price: float
    timestamp_us: int
    commission: float


class PositionSnapshot(NamedTuple):
    """A received PositionSnapshot (topic ``positions``)."""

    symbol: str
    quantity: float
    avg_entry_price: float
    current_price: float
    unrealized_pnl: float
    realized_pnl: float
    last_update_us: int


class TradingSignal(NamedTuple):
    """A received TradingSignal (topic ``signals``); ``features`` sorted by name."""

    strategy_id: str
    symbol: str
    action: int
    confidence: float
    suggested_quantity: float
    timestamp_us: int
    features: Dict[str, float]


class Command(NamedTuple):
    """A received Command: ``type`` a :class:`CommandType`, ``payload`` its JSON text."""

    type: int
    payload: str
    timestamp_us: int

    @property
    def data(self) -> Any:
        """The payload parsed as JSON (``{}`` for an empty payload)."""
        return json.loads(self.payload) if self.payload else {}


Message = Union[MarketTick, OrderRequest, FillReport, PositionSnapshot, TradingSignal]

TICK_DTYPE = struct_dtype(
    "PyrtTickRecord",
    [(name, name, fmt) for name, fmt in
     (("timestamp_us", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<f8"),
      ("symbol", "S32"), ("exchange", "S16"))],
)
"""One tick of :meth:`Subscriber.receive_batch` and :meth:`Publisher.publish_ticks`:
the C struct ``PyrtTickRecord``. ``symbol`` and ``exchange`` are UTF-8 bytes,
NUL-padded (NumPy strips the padding); longer strings are cut to fit and counted
in :attr:`Subscriber.truncated`."""

_KIND_NAMES = {
    lib.PYRT_MESSAGE_MARKET_DATA: "market_data",
    lib.PYRT_MESSAGE_FILL: "fill",
    lib.PYRT_MESSAGE_POSITION: "position",
    lib.PYRT_MESSAGE_SIGNAL: "signal",
    lib.PYRT_MESSAGE_ORDER: "order",
}


_TIMEOUT = lib.PYRT_TIMEOUT
_MARKET_DATA = lib.PYRT_MESSAGE_MARKET_DATA
_COMMAND = lib.PYRT_MESSAGE_COMMAND
_INT32_MAX = 2**31 - 1
# Command types by value, for both directions of the command channel's hot
# path: a dict lookup is several times cheaper than CommandType(value).
_COMMAND_TYPES = {int(member): member for member in CommandType}
# One encoder for every command payload: json.dumps with a non-default
# argument (allow_nan=False) builds a new JSONEncoder on each call.
_PAYLOAD_ENCODER = json.JSONEncoder(allow_nan=False)
# Builds a NamedTuple without its Python-level __new__ (a hot path).
_new_tuple = tuple.__new__


def _now_us() -> int:
    return time.time_ns() // 1000


def _text(value: Any, name: str) -> Any:
    """A str argument as a C string kept alive by the caller's reference. A
    NUL would silently end the C string early ("BTC\\0USD" sent as "BTC"),
    so it is refused; the length limit is the core's."""
    if not isinstance(value, str):
        raise PyrtValueError(f"{name}: expected str, got {type(value).__name__}")
    if "\0" in value:
        raise PyrtValueError(f"{name}: must not contain a NUL character")
    return ffi.new("char[]", value.encode("utf-8"))


def _number(value: Any, name: str) -> float:
    """A float field; ValueError naming it for anything that is not a number."""
    if isinstance(value, (str, bytes)) or isinstance(value, bool):
        raise PyrtValueError(f"{name}: expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PyrtValueError(f"{name}: expected a number, got {value!r}") from None


def _int64(value: Any, name: str) -> int:
    """An int64 field (timestamps); None means now."""
    if value is None:
        return _now_us()
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise PyrtValueError(f"{name}: expected an int, got {value!r}")
    if not -(2**63) <= value < 2**63:
        raise PyrtValueError(f"{name}: out of the int64 range: {value}")
    return int(value)


def _string(ptr: Any) -> str:
    return ffi.string(ptr).decode("utf-8")


def _enum_value(value: Any, enum_type: type, name: str) -> int:
    """An enum argument given as a member, its int value or its name."""
    if isinstance(value, str):
        try:
            return int(enum_type[value.upper()])
        except KeyError:
            names = ", ".join(m.name for m in enum_type)
            raise PyrtValueError(f"{name}: unknown name {value!r} (expected one of {names})") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise PyrtValueError(f"{name}: expected an int or a name, got {type(value).__name__}")
    return int(value)


def _as_enum(value: int, enum_type: type) -> int:
    try:
        return enum_type(value)
    except ValueError:
        return value


def _timeout(timeout_ms: Any) -> int:
    if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, np.integer)):
        raise PyrtValueError(f"timeout_ms: expected an int, got {type(timeout_ms).__name__}")
    if not -1 <= timeout_ms <= 2**31 - 1:
        raise PyrtValueError(f"timeout_ms: must be >= 0, or -1 to wait forever, got {timeout_ms}")
    return int(timeout_ms)


def _hwm(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 2**31 - 1:
        raise PyrtValueError(f"{name}: expected an int >= 0 (0 = no limit), got {value!r}")
    return int(value)


def _copied_string(getter: Any, handle: Any) -> str:
    needed = ffi.new("size_t *")
    buffer = ffi.new("char[]", 256)
    status = getter(handle, buffer, 256, needed)
    if status == lib.PYRT_BUFFER_TOO_SMALL:
        buffer = ffi.new("char[]", needed[0])
        status = getter(handle, buffer, needed[0], needed)
    check(status)
    return _string(buffer)


class _Socket(Handle):
    """A messaging object: one socket behind the core's handle discipline.
    Closing the last open messaging object waits at most one second for
    queued messages to be delivered."""

    __slots__ = ()
    _what = "object"

    def _handle(self) -> Any:
        return self._ptr

    def _check_open(self) -> None:
        # Counters read 0 on a closed handle in C; Python says why instead.
        if self.closed:
            raise PyrtValueError(f"{self._what}: is closed")


class _Receiving(threading.local):
    """What one thread receives into: its own PyrtMessage and views, so two
    threads sharing a subscriber never read each other's message."""

    def __init__(self, view_types: Tuple[Tuple[int, str], ...]) -> None:
        out = ffi.new("PyrtMessage **")
        check(lib.pyrt_message_new(out))
        self.message = ffi.gc(out[0], lib.pyrt_message_free)
        self.views = {kind: ffi.new(ctype) for kind, ctype in view_types}


class _TickScratch(threading.local):
    """The tick struct `publish_tick` fills, one per thread."""

    def __init__(self) -> None:
        self.tick = ffi.new("PyrtMarketTick *")


_PUBLISHED_VIEWS = (
    (lib.PYRT_MESSAGE_MARKET_DATA, "PyrtMarketTick *"),
    (lib.PYRT_MESSAGE_FILL, "PyrtFillReport *"),
    (lib.PYRT_MESSAGE_POSITION, "PyrtPositionSnapshot *"),
    (lib.PYRT_MESSAGE_SIGNAL, "PyrtTradingSignal *"),
    (lib.PYRT_MESSAGE_ORDER, "PyrtOrderRequest *"),
)
_COMMAND_VIEWS = ((lib.PYRT_MESSAGE_COMMAND, "PyrtCommand *"),)


class Publisher(_Socket):
    """Publishes ticks, fills, positions, signals and orders.

    Parameters:
        endpoint: where to bind, e.g. ``"tcp://127.0.0.1:5555"``;
            ``"tcp://127.0.0.1:*"`` picks a free port (see :attr:`endpoint`).
        sndhwm: messages queued per subscriber before ZeroMQ drops further
            ones, silently (0 = no limit; default 1000, as pyzmq's).

    Messages published before a subscriber has connected and subscribed are
    lost (ZeroMQ's slow joiner): call :meth:`wait_for_subscribers` first.
    Keyword names are the .proto field names. A bad argument raises ValueError.
    """

    __slots__ = ("_scratch",)
    _what = "publisher"
    _close_fn = lib.pyrt_publisher_close
    _free_fn = lib.pyrt_publisher_free

    def __init__(self, endpoint: str, *, sndhwm: int = DEFAULT_HWM) -> None:
        out = ffi.new("PyrtPublisher **")
        check(lib.pyrt_publisher_new(_text(endpoint, "endpoint"), _hwm(sndhwm, "sndhwm"), out))
        self._adopt(out[0])
        self._scratch = _TickScratch()

    @property
    def endpoint(self) -> str:
        """The bound endpoint, with a ``*`` port resolved to the real one."""
        return _copied_string(lib.pyrt_publisher_last_endpoint, self._handle())

    def wait_for_subscribers(self, count: int = 1, timeout_ms: int = 5000) -> None:
        """Waits until at least ``count`` subscribers are connected and
        subscribed, so that what is published next reaches them.

        Raises:
            PyrtTimeoutError (a TimeoutError): not within ``timeout_ms``.
        """
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise PyrtValueError(f"count: expected an int >= 0, got {count!r}")
        check(lib.pyrt_publisher_wait_for_subscribers(self._handle(), int(count), _timeout(timeout_ms)))

    def publish_tick(
        self,
        *,
        symbol: str,
        bid: float = 0.0,
        ask: float = 0.0,
        last: float = 0.0,
        volume: float = 0.0,
        timestamp_us: Optional[int] = None,
        exchange: str = "",
    ) -> None:
        """Publishes a MarketTick under ``market.<symbol>``; ``timestamp_us``
        defaults to now (microseconds since the Unix epoch)."""
        handle = self._handle()
        tick = self._scratch.tick
        symbol_c = _text(symbol, "symbol")
        exchange_c = _text(exchange, "exchange")
        tick.symbol = symbol_c
        tick.exchange = exchange_c
        tick.bid = _number(bid, "bid")
        tick.ask = _number(ask, "ask")
        tick.last = _number(last, "last")
        tick.volume = _number(volume, "volume")
        tick.timestamp_us = _int64(timestamp_us, "timestamp_us")
        check(lib.pyrt_publisher_publish_tick(handle, tick))

    def publish_ticks(self, records: np.ndarray) -> None:
        """Publishes every row of a :data:`TICK_DTYPE` array as one MarketTick
        message each, in order, in one call."""
        array = np.ascontiguousarray(records)
        if array.dtype != TICK_DTYPE or array.ndim != 1:
            raise PyrtValueError(f"records: expected a 1-D array of pyrt.messaging.TICK_DTYPE, got {array.dtype}")
        check(lib.pyrt_publisher_publish_tick_records(
            self._handle(), ffi.from_buffer("PyrtTickRecord[]", array), len(array)))

    def publish_fill(
        self,
        *,
        order_id: str = "",
        fill_id: str = "",
        symbol: str = "",
        filled_quantity: float = 0.0,
        fill_price: float = 0.0,
        timestamp_us: Optional[int] = None,
        commission: float = 0.0,
    ) -> None:
        """Publishes a FillReport under ``fills``; ``timestamp_us`` defaults to now."""
        keep = [_text(order_id, "order_id"), _text(fill_id, "fill_id"), _text(symbol, "symbol")]
        fill = ffi.new("PyrtFillReport *", {
            "order_id": keep[0], "fill_id": keep[1], "symbol": keep[2],
            "filled_quantity": _number(filled_quantity, "filled_quantity"),
            "fill_price": _number(fill_price, "fill_price"),
            "timestamp_us": _int64(timestamp_us, "timestamp_us"),
            "commission": _number(commission, "commission"),
        })
        check(lib.pyrt_publisher_publish_fill(self._handle(), fill))

    def publish_position(
        self,
        *,
        symbol: str = "",
        quantity: float = 0.0,
        avg_entry_price: float = 0.0,
        current_price: float = 0.0,
        unrealized_pnl: float = 0.0,
        realized_pnl: float = 0.0,
        last_update_us: Optional[int] = None,
    ) -> None:
        """Publishes a PositionSnapshot under ``positions``; ``last_update_us`` defaults to now."""
        symbol_c = _text(symbol, "symbol")
        position = ffi.new("PyrtPositionSnapshot *", {
            "symbol": symbol_c, "quantity": _number(quantity, "quantity"),
            "avg_entry_price": _number(avg_entry_price, "avg_entry_price"),
            "current_price": _number(current_price, "current_price"),
            "unrealized_pnl": _number(unrealized_pnl, "unrealized_pnl"),
            "realized_pnl": _number(realized_pnl, "realized_pnl"),
            "last_update_us": _int64(last_update_us, "last_update_us"),
        })
        check(lib.pyrt_publisher_publish_position(self._handle(), position))

    def publish_signal(
        self,
        *,
        strategy_id: str = "",
        symbol: str = "",
        action: Union[int, str] = Action.NONE,
        confidence: float = 0.0,
        suggested_quantity: float = 0.0,
        timestamp_us: Optional[int] = None,
        features: Optional[Mapping[str, float]] = None,
    ) -> None:
        """Publishes a TradingSignal under ``signals``. ``action`` is an
        :class:`Action` (or its value or name); ``features`` maps names to
        floats (not NaN); ``timestamp_us`` defaults to now."""
        features = {} if features is None else features
        if not isinstance(features, Mapping):
            raise PyrtValueError(f"features: expected a mapping of str to float, got {type(features).__name__}")
        keys = [_text(k, "features") for k in features]
        values = ffi.new("double[]", [_number(v, "features") for v in features.values()])
        key_array = ffi.new("const char *[]", keys)
        strategy_c, symbol_c = _text(strategy_id, "strategy_id"), _text(symbol, "symbol")
        signal = ffi.new("PyrtTradingSignal *", {
            "strategy_id": strategy_c, "symbol": symbol_c,
            "action": _enum_value(action, Action, "action"),
            "confidence": _number(confidence, "confidence"),
            "suggested_quantity": _number(suggested_quantity, "suggested_quantity"),
            "timestamp_us": _int64(timestamp_us, "timestamp_us"),
            "feature_keys": key_array, "feature_values": values, "features_len": len(keys),
        })
        check(lib.pyrt_publisher_publish_signal(self._handle(), signal))

    def publish_order(
        self,
        *,
        order_id: str = "",
        symbol: str = "",
        side: Union[int, str] = Side.BUY,
        quantity: float = 0.0,
        price: float = 0.0,
        order_type: Union[int, str] = OrderType.MARKET,
        strategy_id: str = "",
    ) -> None:
        """Publishes an OrderRequest under ``orders``. ``side`` is a
        :class:`Side`, ``order_type`` an :class:`OrderType` (member, value or
        name); ``price`` is 0 for market orders."""
        keep = [_text(order_id, "order_id"), _text(symbol, "symbol"), _text(strategy_id, "strategy_id")]
        order = ffi.new("PyrtOrderRequest *", {
            "order_id": keep[0], "symbol": keep[1], "side": _enum_value(side, Side, "side"),
            "quantity": _number(quantity, "quantity"), "price": _number(price, "price"),
            "order_type": _enum_value(order_type, OrderType, "order_type"), "strategy_id": keep[2],
        })
        check(lib.pyrt_publisher_publish_order(self._handle(), order))


def _read_message(kind: int, message: Any, views: Dict[int, Any]) -> Message:
    """The held message as its NamedTuple (decoding was done in Rust)."""
    view = views[kind]
    if kind == lib.PYRT_MESSAGE_MARKET_DATA:
        check(lib.pyrt_message_market_tick(message, view))
        return MarketTick(_string(view.symbol), view.bid, view.ask, view.last, view.volume,
                          view.timestamp_us, _string(view.exchange))
    if kind == lib.PYRT_MESSAGE_FILL:
        check(lib.pyrt_message_fill_report(message, view))
        return FillReport(_string(view.order_id), _string(view.fill_id), _string(view.symbol),
                          view.filled_quantity, view.fill_price, view.timestamp_us, view.commission)
    if kind == lib.PYRT_MESSAGE_POSITION:
        check(lib.pyrt_message_position_snapshot(message, view))
        return PositionSnapshot(_string(view.symbol), view.quantity, view.avg_entry_price,
                                view.current_price, view.unrealized_pnl, view.realized_pnl,
                                view.last_update_us)
    if kind == lib.PYRT_MESSAGE_SIGNAL:
        check(lib.pyrt_message_trading_signal(message, view))
        n = view.features_len
        features = {_string(view.feature_keys[i]): view.feature_values[i] for i in range(n)}
        return TradingSignal(_string(view.strategy_id), _string(view.symbol), _as_enum(view.action, Action),
                             view.confidence, view.suggested_quantity, view.timestamp_us, features)
    check(lib.pyrt_message_order_request(message, view))
    return OrderRequest(_string(view.order_id), _string(view.symbol), _as_enum(view.side, Side),
                        view.quantity, view.price, _as_enum(view.order_type, OrderType),
                        _string(view.strategy_id))


class Subscriber(_Socket):
    """Receives the messages of the given topics, decoded.

    Parameters:
        address: the publisher's endpoint, e.g. ``"tcp://127.0.0.1:5555"``.
        topics: the topics to receive, matched exactly: ``"market.BTC/USD"``
            does not receive ``"market.BTC/USDT"`` (ZeroMQ alone would: it
            matches byte prefixes). A topic ending in ``.`` or ``*`` is a
            prefix: ``"market."`` receives every tick, ``"*"`` everything.
        rcvhwm: messages queued on this side before ZeroMQ drops further ones
            (0 = no limit; default 1000, as pyzmq's).
        max_message_size: the largest message (topic and payload bytes) to
            take; a larger one is dropped unread and counted in
            :attr:`oversized`, and the subscriber goes on (default 1 MiB;
            settable later through the attribute of the same name).

    A message that does not decode, has an unknown topic, an empty payload or
    not exactly two frames is never returned and never raises: it is counted
    in :attr:`decode_errors` (reason in :attr:`last_decode_error`).
    """

    __slots__ = ("_receiving", "_max_message_size")
    _what = "subscriber"
    _close_fn = lib.pyrt_subscriber_close
    _free_fn = lib.pyrt_subscriber_free

    def __init__(self, address: str, topics: Sequence[str], *, rcvhwm: int = DEFAULT_HWM,
                 max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        if isinstance(topics, (str, bytes)):
            raise PyrtValueError("topics: expected a list of topics, not a single string")
        topic_strings = [_text(t, "topics") for t in topics]
        topic_array = ffi.new("const char *[]", topic_strings)
        out = ffi.new("PyrtSubscriber **")
        check(lib.pyrt_subscriber_new(_text(address, "address"), topic_array, len(topic_strings),
                                      _hwm(rcvhwm, "rcvhwm"), out))
        self._adopt(out[0])
        self._receiving = _Receiving(_PUBLISHED_VIEWS)
        self._max_message_size = DEFAULT_MAX_MESSAGE_SIZE
        self.max_message_size = max_message_size

    @property
    def max_message_size(self) -> int:
        """The largest message taken, in bytes; larger ones are dropped and counted."""
        return self._max_message_size

    @max_message_size.setter
    def max_message_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value < 2**63:
            raise PyrtValueError(f"max_message_size: expected an int >= 1 (bytes), got {value!r}")
        check(lib.pyrt_subscriber_set_max_message_size(self._handle(), int(value)))
        self._max_message_size = int(value)

    def receive(self, timeout_ms: int = 1000) -> Union[Tuple[str, Message], Tuple[None, None]]:
        """The next message: ``(kind, message)`` with kind ``"market_data"``,
        ``"fill"``, ``"position"``, ``"signal"`` or ``"order"`` and the message
        a NamedTuple whose fields are named as in the .proto; ``(None, None)``
        when nothing arrived within ``timeout_ms`` (0: only what is queued;
        -1: wait forever)."""
        if type(timeout_ms) is not int:
            timeout_ms = _timeout(timeout_ms)
        handle = self._ptr
        receiving = self._receiving
        message = receiving.message
        try:
            status = lib.pyrt_subscriber_receive(handle, timeout_ms, message)
        except OverflowError:
            raise PyrtValueError(f"timeout_ms: must be >= 0, or -1 to wait forever, got {timeout_ms}") from None
        if status:
            if status == _TIMEOUT:
                return None, None
            check(status)
        kind = lib.pyrt_message_kind(message)
        views = receiving.views
        if kind == _MARKET_DATA:  # the hot path, kept short
            view = views[_MARKET_DATA]
            lib.pyrt_message_market_tick(message, view)
            return "market_data", _new_tuple(MarketTick, (
                _string(view.symbol), view.bid, view.ask, view.last, view.volume,
                view.timestamp_us, _string(view.exchange)))
        return _KIND_NAMES[kind], _read_message(kind, message, views)

    def receive_batch(self, max_ticks: int = 4096, timeout_ms: int = 1000) -> np.ndarray:
        """Up to ``max_ticks`` ticks as a :data:`TICK_DTYPE` array, in one call:
        waits at most ``timeout_ms`` for the first tick, then takes only what
        is already queued (an empty array when nothing came). Valid messages
        other than ticks are passed over and counted in :attr:`skipped`: read
        in batches from a subscriber to ``market.`` topics only."""
        if isinstance(max_ticks, bool) or not isinstance(max_ticks, (int, np.integer)) or max_ticks < 1:
            raise PyrtValueError(f"max_ticks: expected an int >= 1, got {max_ticks!r}")
        if max_ticks > 1 << 20:
            raise PyrtValueError(f"max_ticks: at most {1 << 20} per call, got {max_ticks!r}")
        out = np.empty(int(max_ticks), dtype=TICK_DTYPE)
        count = ffi.new("size_t *")
        check(lib.pyrt_subscriber_receive_ticks(self._handle(), ffi.from_buffer("PyrtTickRecord[]", out),
                                                len(out), _timeout(timeout_ms), count))
        received = count[0]
        # A small batch is copied out so it does not pin the whole buffer.
        return out[:received] if 4 * received >= len(out) else out[:received].copy()

    @property
    def decode_errors(self) -> int:
        """Messages refused so far (undecodable, unknown topic, empty, wrong frame count)."""
        self._check_open()
        return lib.pyrt_subscriber_decode_errors(self._handle())

    @property
    def oversized(self) -> int:
        """Messages dropped unread because they were larger than :attr:`max_message_size`."""
        self._check_open()
        return lib.pyrt_subscriber_oversized(self._handle())

    @property
    def last_decode_error(self) -> str:
        """Why the latest refused (or dropped) message was refused ("" if none was)."""
        return _copied_string(lib.pyrt_subscriber_last_decode_error, self._handle())

    @property
    def skipped(self) -> int:
        """Valid non-tick messages passed over by :meth:`receive_batch`."""
        self._check_open()
        return lib.pyrt_subscriber_skipped(self._handle())

    @property
    def truncated(self) -> int:
        """Ticks whose symbol or exchange was cut to fit :data:`TICK_DTYPE`."""
        self._check_open()
        return lib.pyrt_subscriber_truncated(self._handle())


class CommandSender(_Socket):
    """Sends commands to a :class:`CommandReceiver` and waits for each
    acknowledgement (REQ socket; connects to ``endpoint``).

    After a timeout the sender reconnects afresh, so it can be used again; the
    command that timed out may or may not have arrived.

    While it waits for an acknowledgement, ``send`` polls for up to 200 µs
    (yielding the CPU between polls) before it sleeps: a round trip takes
    tens of microseconds, and a sleeping caller pays a wake-up on top.
    """

    __slots__ = ()
    _what = "command sender"
    _close_fn = lib.pyrt_command_sender_close
    _free_fn = lib.pyrt_command_sender_free

    def __init__(self, endpoint: str) -> None:
        out = ffi.new("PyrtCommandSender **")
        check(lib.pyrt_command_sender_new(_text(endpoint, "endpoint"), out))
        self._adopt(out[0])

    def send(
        self,
        type: Union[int, str],
        payload: Optional[Mapping[str, Any]] = None,
        timeout_ms: int = 1000,
    ) -> None:
        """Sends a command and returns once the receiver acknowledged it.

        Parameters:
            type: a :class:`CommandType` (member, value or name such as ``"START_TRADING"``).
            payload: parameters, sent as JSON (``None`` sends ``{}``).
            timeout_ms: how long to wait for the acknowledgement (-1: forever).

        Raises:
            PyrtTimeoutError (a TimeoutError): no acknowledgement in time.
            PyrtMessagingError: the receiver refused the command.
        """
        # The round trip is tens of microseconds, so the checks below take
        # the common case (a dict, a CommandType or int, an int timeout)
        # first; anything else goes through the general validators.
        if payload is None:
            payload = {}
        elif payload.__class__ is not dict:
            if not isinstance(payload, Mapping):
                raise PyrtValueError(f"payload: expected a dict, got {payload.__class__.__name__}")
            payload = dict(payload)
        try:
            text = _PAYLOAD_ENCODER.encode(payload)
        except (TypeError, ValueError) as exc:
            raise PyrtValueError(f"payload: not JSON-serialisable ({exc})") from None
        if (type.__class__ is CommandType or type.__class__ is int) and type in _COMMAND_TYPES:
            command_type = type
        else:
            command_type = _enum_value(type, CommandType, "type")
            if command_type not in _COMMAND_TYPES:  # also what would overflow the C int
                raise PyrtValueError(f"type: must be 0 (START_TRADING) to 4 (RELOAD_MODEL), got {command_type}")
        if timeout_ms.__class__ is not int or not -1 <= timeout_ms <= _INT32_MAX:
            timeout_ms = _timeout(timeout_ms)
        # JSON text is ASCII with every control character escaped (no NUL),
        # so its bytes go to C as they are: cffi passes a bytes object's own
        # NUL-terminated buffer, with no copy.
        status = lib.pyrt_command_sender_send(self._ptr, command_type, text.encode("ascii"), timeout_ms)
        if status:
            check(status)


class CommandReceiver(_Socket):
    """Receives commands and acknowledges each on receipt (REP socket; binds
    ``endpoint``, ``"tcp://127.0.0.1:*"`` picks a free port, see :attr:`endpoint`).

    The acknowledgement says the command arrived and decoded, not that it was
    carried out. A request that does not decode, is larger than 1 MiB or has
    an unknown command type is answered with an error (the sender raises)
    and counted in :attr:`decode_errors`.
    """

    __slots__ = ("_receiving",)
    _what = "command receiver"
    _close_fn = lib.pyrt_command_receiver_close
    _free_fn = lib.pyrt_command_receiver_free

    def __init__(self, endpoint: str) -> None:
        out = ffi.new("PyrtCommandReceiver **")
        check(lib.pyrt_command_receiver_new(_text(endpoint, "endpoint"), out))
        self._adopt(out[0])
        self._receiving = _Receiving(_COMMAND_VIEWS)

    @property
    def endpoint(self) -> str:
        """The bound endpoint, with a ``*`` port resolved to the real one."""
        return _copied_string(lib.pyrt_command_receiver_last_endpoint, self._handle())

    def receive(self, timeout_ms: int = 1000) -> Optional[Command]:
        """The next command, already acknowledged, or None when none arrived
        within ``timeout_ms`` (-1: wait forever)."""
        if timeout_ms.__class__ is not int or not -1 <= timeout_ms <= _INT32_MAX:
            timeout_ms = _timeout(timeout_ms)
        receiving = self._receiving
        message = receiving.message
        status = lib.pyrt_command_receiver_receive(self._ptr, timeout_ms, message)
        if status:
            if status == _TIMEOUT:
                return None
            check(status)
        view = receiving.views[_COMMAND]
        status = lib.pyrt_message_command(message, view)
        if status:
            check(status)
        command_type = view.command_type
        return _new_tuple(Command, (_COMMAND_TYPES.get(command_type, command_type), _string(view.payload),
                                    view.timestamp_us))

    @property
    def decode_errors(self) -> int:
        """Requests refused so far (undecodable, over-size, unknown command type)."""
        self._check_open()
        return lib.pyrt_command_receiver_decode_errors(self._handle())
