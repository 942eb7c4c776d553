// The Shiheng Open Platform's default request signature, written from the
// signing rule in spec/shiheng-open.yaml (info.description) with node:crypto:
// an implementation independent of the Rust crate.
//
//   sign = md5(sorted "name=value" pairs joined by "&" + secret), lowercase hex
//
// paramContent is canonical JSON. JSON.stringify is NOT it: it keeps the
// caller's key order, and JavaScript's default sort orders keys by UTF-16
// units (wrong beyond U+FFFF); numbers above 2^53 must arrive as bigint.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isSafeNumber, parse } from "lossless-json";

/** Orders keys by their UTF-8 bytes, which is Unicode code point order. */
export function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Compact JSON, keys sorted by code point at every depth, only the rule's escapes. */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new Error(`the signing rule needs exact integers, got ${value}`);
    }
    return String(value);
  }
  if (typeof value === "string") return quote(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) => v !== undefined,
    );
    entries.sort(([a], [b]) => byCodePoint(a, b));
    return `{${entries.map(([k, v]) => `${quote(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`not a JSON value: ${typeof value}`);
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};

function quote(s: string): string {
  let out = '"';
  for (const c of s) {
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c < " ") out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

/** The text before the secret: parameters sorted by name, as name=value joined by &. */
export function stringToSign(
  appId: string,
  timestamp: number | bigint,
  version: string,
  paramContent?: unknown,
): string {
  const params: [string, string][] = [
    ["appId", appId],
    ["timestamp", String(timestamp)],
    ["version", version],
  ];
  if (paramContent !== undefined) params.push(["paramContent", canonicalJson(paramContent)]);
  params.sort(([a], [b]) => byCodePoint(a, b));
  return params.map(([name, value]) => `${name}=${value}`).join("&");
}

/** The `sign` field: lowercase hex MD5 of the UTF-8 bytes of the string to sign + the secret. */
export function sign(
  appId: string,
  secret: string,
  timestamp: number | bigint,
  version: string,
  paramContent?: unknown,
): string {
  const text = stringToSign(appId, timestamp, version, paramContent) + secret;
  return createHash("md5").update(text, "utf8").digest("hex");
}

/** Parses JSON keeping every integer exact: safe ones as number, larger ones as bigint. */
export function parseExact(text: string): unknown {
  return parse(text, undefined, (digits: string) =>
    isSafeNumber(digits) ? Number(digits) : BigInt(digits),
  );
}

interface Vector {
  name: string;
  appId: string;
  appSecret: string;
  timestamp: number | bigint;
  version: string;
  paramContent?: unknown;
  /** The exact JSON text sent, where it matters (integers beyond 64 bits, -0). */
  paramContentText?: string;
  stringToSign: string;
  sign: string;
  signUppercase: string;
}

/** Checks every case of sign-vectors.json; returns how many. Throws on the first mismatch. */
export function checkVectors(path: string): number {
  const { cases } = parseExact(readFileSync(path, "utf8")) as { cases: Vector[] };
  for (const c of cases) {
    // Parsed exactly (bigint beyond 2^53; -0 is the number -0, written "0").
    const params = c.paramContentText !== undefined ? parseExact(c.paramContentText) : c.paramContent;
    const text = stringToSign(c.appId, c.timestamp, c.version, params);
    if (text !== c.stringToSign) {
      throw new Error(`${c.name}: string to sign ${text} != ${c.stringToSign}`);
    }
    const lower = sign(c.appId, c.appSecret, c.timestamp, c.version, params);
    if (lower !== c.sign) throw new Error(`${c.name}: sign ${lower} != ${c.sign}`);
    if (lower.toUpperCase() !== c.signUppercase) {
      throw new Error(`${c.name}: uppercase sign ${lower.toUpperCase()} != ${c.signUppercase}`);
    }
  }
  return cases.length;
}
