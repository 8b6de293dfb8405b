// Placeholder: issue 5 fills this in.
export {};
