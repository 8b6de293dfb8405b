export { RedisSlots, type RedisSlotsOptions } from "./redis-slots.ts";
export { CapacityRefusal } from "./refusal.ts";
