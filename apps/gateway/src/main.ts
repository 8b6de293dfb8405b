// Placeholder: the gateway issue fills this in.
export {};
