/** A job slot on one backend, held for a whole job; it moves with the job when it fails over. */
import type { JobSlots } from "../../service/caps/job-slots.ts";

/** A job slot on one backend, held for a whole request; it may move once the job fails over. */
export interface Lease {
  /** The backend the job is on now. */
  readonly backend: string;
  /** Frees the slot; safe to call more than once. */
  release(): void;
}

/** The pool's own lease: which member it is on, and how to move it. */
export class PoolLease<M extends { slots: JobSlots; name: string }> implements Lease {
  private releaseSlot: (() => void) | undefined;
  constructor(
    public member: M,
    release: () => void,
  ) {
    this.releaseSlot = release;
  }
  get backend(): string {
    return this.member.name;
  }
  release(): void {
    const r = this.releaseSlot;
    this.releaseSlot = undefined;
    r?.();
  }
  /** Gives up this slot and waits for one on `next`. */
  async moveTo(next: M, signal: AbortSignal | undefined): Promise<void> {
    this.release();
    this.member = next;
    this.releaseSlot = await next.slots.acquire(signal);
  }
}
