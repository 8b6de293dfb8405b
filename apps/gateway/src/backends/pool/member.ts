/** One backend inside the pool: its spec, its health, its cool-off, and how ranking sees it. */
import type { Logger } from "pino";
import type { JobSlots } from "../../service/caps/job-slots.ts";
import { Health } from "./health.ts";
import type { RankedBox } from "./rank.ts";
import type { PoolMember } from "./types.ts";

export class Member {
  readonly health: Health;
  /** Passed over until then (its UI queue was full). @unit milliseconds since the epoch */
  coolUntil = 0;
  constructor(
    readonly spec: PoolMember,
    logger: Logger,
    now: () => number,
  ) {
    this.health = new Health(spec.name, spec.backend, logger, spec.url, now);
  }
  get name(): string {
    return this.spec.name;
  }
  get slots(): JobSlots {
    return this.spec.slots;
  }
  view(): RankedBox {
    const { running, waiting } = this.spec.slots.load;
    const info = this.health.info;
    return {
      state: this.health.state,
      coolUntil: this.coolUntil,
      outstanding: (running + waiting) / this.spec.slots.concurrency,
      blocked: this.spec.breaker ? !this.spec.breaker.admits() : false,
      ...(info ? { can: { modes: info.modes, speakers: info.speakers, instructNeeds: info.instructNeeds, speed: info.speed } } : {}),
    };
  }
}

