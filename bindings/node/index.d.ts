// Type declarations of the `pyrt` package (index.js).

/** Statuses of pyrt.h (PYRT_*): 1xx bad arguments, 5xx the ring, 9xx internal errors. */
export declare const STATUS: Readonly<{
  OK: 0; INVALID_ARGUMENT: 100; NULL_POINTER: 101; BUFFER_TOO_SMALL: 102; INVALID_STATE: 103; CLOSED: 104;
  NOT_FOUND: 105; INSUFFICIENT_HISTORY: 106; FULL: 500; EMPTY: 501; BAD_LAYOUT: 502; IO_ERROR: 503;
}>;

/** A failed pyrt call: the core's status and message. */
export declare class PyrtError extends Error {
  readonly status: number;
  constructor(status: number, message: string);
}

export interface Param {
  readonly name: string;
  readonly default: number;
  /** Valid range, both ends included. */
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
}

/** One catalog record, named as TA-Lib names it. */
export interface Indicator {
  readonly name: string;
  readonly group: string;
  readonly display: string;
  /** Input names, in the order run() and Stream.create() take the series. */
  readonly inputs: readonly string[];
  readonly params: readonly Param[];
  /** Output names, in the order run() returns them. */
  readonly outputs: readonly string[];
}

/** Parameters by TA-Lib's names; those not given take their defaults. */
export type Params = Record<string, number>;
export type Series = Float64Array | ArrayLike<number>;

/** The library's semantic version, e.g. "0.1.0". */
export declare function version(): string;
/** Every indicator run() and Stream.create() accept. */
export declare function indicators(): Indicator[];
/** The catalog record of the indicator called name. */
export declare function indicator(name: string): Indicator;
/** The indicator over inputs (record order); one Float64Array per output, NaN where not yet defined. */
export declare function run(name: string, inputs: Series[], params?: Params | null): Float64Array[];
/** As run(), writing into caller-owned outputs (one Float64Array per output, as long as the inputs). */
export declare function run(name: string, inputs: Series[], params: Params | null | undefined, outputs: Float64Array[]): Float64Array[];

/** An indicator updated one bar at a time; its state resumes in any pyrt binding. */
export declare class Stream {
  private constructor();
  /** Built from history, as talib.stream.NAME(*history). */
  static create(name: string, history: Series[], params?: Params | null): Stream;
  /** Resumes state saved by any pyrt binding. */
  static load(state: Uint8Array | ArrayBuffer): Stream;
  readonly indicator: Indicator;
  /** One bar (a value per input); the outputs after it. */
  update(...tick: number[]): number[];
  /** update() on the thread pool. */
  updateAsync(...tick: number[]): Promise<number[]>;
  save(): Buffer;
  close(): void;
}

export interface RingRecord {
  symbolId: number;
  price: number;
  volume: number;
  timestampUs: number;
}

/** A named shared-memory ring of market-data records. */
export declare class Ring {
  private constructor();
  static create(name: string, capacity: number): Ring;
  static open(name: string): Ring;
  static unlink(name: string): void;
  popBatch(max: number): RingRecord[];
  pushBatch(records: readonly RingRecord[]): number;
  push(record: RingRecord): boolean;
  readonly length: number;
  readonly capacity: number;
  close(): void;
}
