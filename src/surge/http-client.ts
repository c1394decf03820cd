/**
 * A lean HTTP/1.1 client for load generation: keep-alive sockets, one exchange per socket at a time,
 * the request written as one buffer and the response parsed by hand (status, content-length or
 * chunked body, `connection: close`, `keep-alive: timeout=N`, `retry-after`).
 *
 * Why not `node:http` or undici: the surge replay's client shares two cores with the node it loads,
 * and every microsecond it spends is taken from the node and added to every latency it measures.
 * Against a bare server answering at once, `http.request` through a keep-alive agent cost 75–151 µs
 * of the client's CPU per request and fell behind at 6,000 req/s (p50 280 ms); this client cost
 * 29–59 µs and kept p99 at 10 ms at 6,000 req/s (docs/benchmarks.md). undici's pool was measured
 * before and was not cheaper than the agent. It is a load generator's client, not a general one: no
 * redirects, no proxies, no TLS, no trailers kept, no pipelining.
 */
import net from 'node:net';

export interface LeanReply {
  /** HTTP status; 0 when no complete answer came (see `error`). */
  readonly status: number;
  readonly body: Buffer;
  /** `Retry-After` in seconds, when the answer had a numeric one. */
  readonly retryAfterS: number | null;
  /** Why no answer came: `timeout`, a socket error code (`ECONNRESET`, `ECONNREFUSED`…), or a parse error. */
  readonly error: string | null;
}

export interface LeanClientOptions {
  readonly host: string;
  readonly port: number;
  /** Most sockets open at once; further requests wait in order for one to come free. */
  readonly maxSockets: number;
  /** Most idle sockets kept for reuse; more are closed as they come free. */
  readonly maxIdle: number;
  /** Hard limit on one exchange, waiting for a socket included. */
  readonly timeoutMs: number;
}

const empty = Buffer.alloc(0);
const crlfcrlf = Buffer.from('\r\n\r\n', 'latin1');
const crlf = Buffer.from('\r\n', 'latin1');

interface Exchange {
  readonly head: string;
  readonly body: Buffer | null;
  readonly noBody: boolean;
  readonly keepBody: boolean;
  readonly resolve: (reply: LeanReply) => void;
  readonly timer: NodeJS.Timeout;
  socket: LeanSocket | null;
  done: boolean;
}

type BodyMode = 'length' | 'chunked' | 'close' | 'none';

interface LeanSocket {
  readonly socket: net.Socket;
  exchange: Exchange | null;
  /** Unparsed bytes of the current response. */
  pending: Buffer;
  /** Parsed head of the current response, or null while the head is still arriving. */
  status: number;
  retryAfterS: number | null;
  mode: BodyMode | null;
  /** Body bytes still expected (length mode) or of the current chunk (chunked mode). */
  remaining: number;
  /** Chunked mode: -1 while reading a chunk-size line, else the bytes of the chunk still to come. */
  chunkLeft: number;
  /** Chunked mode: the last chunk was seen, its trailer section is being skipped. */
  trailer: boolean;
  closeAfter: boolean;
  chunks: Buffer[];
  /** When an idle socket must no longer be reused (the server's keep-alive time-out, less a second). */
  expiresAt: number;
  dead: boolean;
}

export class LeanHttpClient {
  private readonly options: LeanClientOptions;
  private readonly hostHeader: string;
  private readonly idle: LeanSocket[] = [];
  private readonly waiting: Exchange[] = [];
  private waitingHead = 0;
  private readonly all = new Set<LeanSocket>();

  constructor(options: LeanClientOptions) {
    this.options = options;
    this.hostHeader = `${options.host}:${options.port}`;
  }

  /** Sockets currently open (busy and idle). */
  get sockets(): number {
    return this.all.size;
  }

  request(
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
    body: Buffer | string | null,
    keepBody = true,
  ): Promise<LeanReply> {
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    const bytes = body === null ? null : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes !== null) head += `content-length: ${bytes.length}\r\n`;
    else if (method !== 'GET' && method !== 'HEAD') head += 'content-length: 0\r\n';
    head += '\r\n';
    return new Promise<LeanReply>((resolve) => {
      const exchange = this.exchange(head, bytes, method === 'HEAD', keepBody, resolve);
      const socket = this.takeIdle();
      if (socket) this.start(socket, exchange);
      else if (this.all.size < this.options.maxSockets) this.start(this.connect(), exchange);
      else this.waiting.push(exchange);
    });
  }

  /**
   * Opens sockets until `count` are open, each carrying one `GET path` (so the server has accepted it
   * and answered on it), and keeps them idle for reuse. Resolves with how many answered 2xx.
   */
  async warm(count: number, path: string): Promise<number> {
    const wanted = Math.min(count, this.options.maxSockets, this.options.maxIdle) - this.all.size;
    if (wanted <= 0) return 0;
    const sockets = Array.from({ length: wanted }, () => this.connect());
    const replies = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<LeanReply>((resolve) => {
            const head = `GET ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n\r\n`;
            this.start(socket, this.exchange(head, null, false, false, resolve));
          }),
      ),
    );
    return replies.filter((reply) => reply.status >= 200 && reply.status < 300).length;
  }

  /**
   * Closes every socket; requests in flight or waiting end with the error `client destroyed`. The
   * client stays usable: later requests open new sockets (as after a node's restart).
   */
  destroy(): void {
    const waiting = this.waiting.splice(0);
    this.waitingHead = 0;
    for (const exchange of waiting) this.fail(exchange, 'client destroyed');
    this.idle.length = 0;
    for (const socket of this.all) {
      socket.dead = true;
      const exchange = socket.exchange;
      socket.exchange = null;
      if (exchange) this.fail(exchange, 'client destroyed');
      socket.socket.destroy();
    }
  }

  /** A new exchange whose time-out starts now. */
  private exchange(
    head: string,
    body: Buffer | null,
    noBody: boolean,
    keepBody: boolean,
    resolve: (reply: LeanReply) => void,
  ): Exchange {
    const exchange: Exchange = {
      head,
      body,
      noBody,
      keepBody,
      resolve,
      timer: setTimeout(() => this.fail(exchange, 'timeout'), this.options.timeoutMs),
      socket: null,
      done: false,
    };
    exchange.timer.unref();
    return exchange;
  }

  private takeIdle(): LeanSocket | undefined {
    const now = Date.now();
    for (;;) {
      const socket = this.idle.pop();
      if (socket === undefined) return undefined;
      if (socket.dead) continue;
      if (now < socket.expiresAt) return socket;
      socket.dead = true;
      socket.socket.destroy();
    }
  }

  private connect(): LeanSocket {
    const raw = net.connect({ host: this.options.host, port: this.options.port, noDelay: true });
    const socket: LeanSocket = {
      socket: raw,
      exchange: null,
      pending: empty,
      status: 0,
      retryAfterS: null,
      mode: null,
      remaining: 0,
      chunkLeft: -1,
      trailer: false,
      closeAfter: false,
      chunks: [],
      expiresAt: Infinity,
      dead: false,
    };
    this.all.add(socket);
    let failure: string | null = null;
    raw.on('data', (data: Buffer) => this.onData(socket, data));
    raw.on('error', (error: NodeJS.ErrnoException) => {
      failure = error.code ?? error.message;
    });
    raw.on('close', () => {
      socket.dead = true;
      this.all.delete(socket);
      const exchange = socket.exchange;
      socket.exchange = null;
      if (exchange) {
        // A body that runs until the connection closes is complete now.
        if (socket.mode === 'close' && failure === null) this.finish(socket, exchange);
        else this.fail(exchange, failure ?? 'ECONNRESET');
      } else {
        const at = this.idle.indexOf(socket);
        if (at >= 0) this.idle.splice(at, 1);
      }
      this.next();
    });
    return socket;
  }

  private start(socket: LeanSocket, exchange: Exchange): void {
    if (exchange.done) {
      this.release(socket);
      return;
    }
    socket.exchange = exchange;
    exchange.socket = socket;
    socket.pending = empty;
    socket.status = 0;
    socket.retryAfterS = null;
    socket.mode = null;
    socket.remaining = 0;
    socket.chunkLeft = -1;
    socket.trailer = false;
    socket.closeAfter = false;
    socket.chunks = [];
    if (exchange.body !== null && exchange.body.length > 0) {
      socket.socket.cork();
      socket.socket.write(exchange.head, 'latin1');
      socket.socket.write(exchange.body);
      socket.socket.uncork();
    } else {
      socket.socket.write(exchange.head, 'latin1');
    }
  }

  /** A socket came free (or closed): give it, or a new one, to the oldest waiting request. */
  private next(): void {
    while (this.waitingHead < this.waiting.length) {
      const exchange = this.waiting[this.waitingHead]!;
      if (exchange.done) {
        this.waitingHead += 1;
        continue;
      }
      const socket =
        this.takeIdle() ?? (this.all.size < this.options.maxSockets ? this.connect() : undefined);
      if (socket === undefined) break;
      this.waitingHead += 1;
      this.start(socket, exchange);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private release(socket: LeanSocket): void {
    if (socket.dead) return;
    if (this.idle.length >= this.options.maxIdle) {
      socket.dead = true;
      socket.socket.destroy();
      return;
    }
    this.idle.push(socket);
    if (this.waitingHead < this.waiting.length) this.next();
  }

  private onData(socket: LeanSocket, data: Buffer): void {
    const exchange = socket.exchange;
    if (exchange === null) {
      // Bytes nobody asked for (the server spoke out of turn): the socket cannot be trusted.
      socket.dead = true;
      socket.socket.destroy();
      return;
    }
    socket.pending = socket.pending.length === 0 ? data : Buffer.concat([socket.pending, data]);
    const problem = this.parse(socket, exchange);
    if (problem === 'more') return;
    socket.exchange = null;
    if (problem !== null) {
      this.fail(exchange, problem);
      socket.dead = true;
      socket.socket.destroy();
      return;
    }
    const reuse = !socket.closeAfter && socket.pending.length === 0;
    this.finish(socket, exchange);
    if (reuse) this.release(socket);
    else {
      socket.dead = true;
      socket.socket.destroy();
    }
  }

  /** Parses what has arrived: 'more' (wait for bytes), null (complete) or a parse error. */
  private parse(socket: LeanSocket, exchange: Exchange): 'more' | string | null {
    for (;;) {
      if (socket.mode === null) {
        const end = socket.pending.indexOf(crlfcrlf);
        if (end < 0) return socket.pending.length > 65_536 ? 'response head too large' : 'more';
        const problem = this.head(socket, exchange, socket.pending.toString('latin1', 0, end));
        socket.pending = socket.pending.subarray(end + 4);
        if (problem !== null) return problem;
        if (socket.mode === null) continue; // a 1xx answer: the real one follows
      }
      switch (socket.mode) {
        case 'none':
          return null;
        case 'close':
          this.take(socket, exchange, socket.pending.length);
          return 'more';
        case 'length':
          this.take(socket, exchange, Math.min(socket.remaining, socket.pending.length));
          return socket.remaining === 0 ? null : 'more';
        case 'chunked':
          return this.chunked(socket, exchange);
      }
    }
  }

  private head(socket: LeanSocket, exchange: Exchange, head: string): string | null {
    if (!head.startsWith('HTTP/1.')) return 'not an HTTP/1 response';
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100) return 'bad status line';
    if (status < 200) return null; // 1xx: keep reading for the final answer
    let length = -1;
    let chunked = false;
    let lineStart = head.indexOf('\r\n');
    while (lineStart >= 0) {
      const lineEnd = head.indexOf('\r\n', lineStart + 2);
      const line = head.slice(lineStart + 2, lineEnd < 0 ? head.length : lineEnd);
      lineStart = lineEnd;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
      else if (name === 'connection') socket.closeAfter = value.toLowerCase().includes('close');
      else if (name === 'retry-after') {
        const seconds = Number(value);
        socket.retryAfterS = value !== '' && Number.isFinite(seconds) ? seconds : null;
      } else if (name === 'keep-alive') {
        const timeout = /timeout=(\d+)/i.exec(value);
        if (timeout) socket.expiresAt = Date.now() + Number(timeout[1]) * 1000 - 1000;
      }
    }
    socket.status = status;
    if (exchange.noBody || status === 204 || status === 304) socket.mode = 'none';
    else if (chunked) socket.mode = 'chunked';
    else if (length >= 0) {
      if (!Number.isSafeInteger(length)) return 'bad content-length';
      socket.mode = length === 0 ? 'none' : 'length';
      socket.remaining = length;
    } else {
      socket.mode = 'close';
      socket.closeAfter = true;
    }
    return null;
  }

  private chunked(socket: LeanSocket, exchange: Exchange): 'more' | string | null {
    for (;;) {
      if (socket.trailer) {
        // Trailer lines until an empty one; their content is not kept.
        const end = socket.pending.indexOf(crlf);
        if (end < 0) return 'more';
        socket.pending = socket.pending.subarray(end + 2);
        if (end === 0) return null;
        continue;
      }
      if (socket.chunkLeft < 0) {
        const end = socket.pending.indexOf(crlf);
        if (end < 0) return socket.pending.length > 1024 ? 'bad chunk size' : 'more';
        const size = parseInt(socket.pending.toString('latin1', 0, end).split(';')[0]!, 16);
        if (!Number.isSafeInteger(size) || size < 0) return 'bad chunk size';
        socket.pending = socket.pending.subarray(end + 2);
        if (size === 0) {
          socket.trailer = true;
          continue;
        }
        socket.chunkLeft = size + 2; // the chunk and its CRLF
      }
      const dataLeft = socket.chunkLeft - 2;
      if (dataLeft > 0) {
        const taken = Math.min(dataLeft, socket.pending.length);
        this.take(socket, exchange, taken);
        socket.chunkLeft -= taken;
        if (socket.chunkLeft > 2) return 'more';
      }
      if (socket.pending.length < 2) return 'more';
      if (socket.pending[0] !== 13 || socket.pending[1] !== 10) return 'bad chunk end';
      socket.pending = socket.pending.subarray(2);
      socket.chunkLeft = -1;
    }
  }

  /** Moves `count` bytes of `pending` into the body (or drops them when the body is not kept). */
  private take(socket: LeanSocket, exchange: Exchange, count: number): void {
    if (count === 0) return;
    if (exchange.keepBody) socket.chunks.push(socket.pending.subarray(0, count));
    socket.pending = socket.pending.subarray(count);
    if (socket.mode === 'length') socket.remaining -= count;
  }

  private finish(socket: LeanSocket, exchange: Exchange): void {
    if (exchange.done) return;
    exchange.done = true;
    clearTimeout(exchange.timer);
    const chunks = socket.chunks;
    socket.chunks = [];
    exchange.resolve({
      status: socket.status,
      body: chunks.length === 0 ? empty : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
      retryAfterS: socket.retryAfterS,
      error: null,
    });
  }

  private fail(exchange: Exchange, error: string): void {
    if (exchange.done) return;
    exchange.done = true;
    clearTimeout(exchange.timer);
    const socket = exchange.socket;
    if (socket && socket.exchange === exchange) {
      // The socket is mid-exchange: its next bytes belong to this request, so it cannot be reused.
      socket.exchange = null;
      socket.dead = true;
      socket.socket.destroy();
    }
    exchange.resolve({ status: 0, body: empty, retryAfterS: null, error });
  }
}
