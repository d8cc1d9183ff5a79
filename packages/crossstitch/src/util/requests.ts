/**
 * Requests answered by id over a message port: each `send` gets an id and a promise, the answer with that id
 * settles it, and a failure of the other side rejects everything still waiting.
 */
export class Requests<T> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: T) => void; reject: (e: Error) => void }>();

  /** A new request: `post(id)` sends it; the promise settles with its answer. */
  send(post: (id: number) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      post(id);
    });
  }

  /** Settle request `id` with a value, or reject it with `error`. */
  answer(id: number, value: T): void;
  answer(id: number, value: undefined, error: Error): void;
  answer(id: number, value: T | undefined, error?: Error): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    if (error) w?.reject(error);
    else w?.resolve(value as T);
  }

  /** Reject every request still waiting. */
  failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }
}
