/** The backend pool lives in `pool/`; this path stays for the code that imports it from here. */
export * from "./pool/index.ts";
