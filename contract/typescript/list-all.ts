// Lists every employee, customer and customer group chat of a running Shiheng
// sandbox (or platform) through openapi-fetch, typed by openapi-typescript
// from spec/shiheng-open.yaml with int64 as `number | bigint`
// (generate-bigint.mjs), signing each request with shiheng-sign.ts (checked
// against the sign vectors first). Compiled with `tsc --strict`.
//
//   node out/list-all.js --base-url URL --vectors tests/fixtures/sign-vectors.json
//
// Ids above 2^53 stay exact because nothing passes through JSON.parse or a
// plain `number`: answers are read as text (`parseAs: "text"`) and parsed
// with lossless-json, and bodies are written by lossless-json's stringify
// (`bodySerializer`), which writes a bigint's digits. Credentials come from
// SHIHENG_APP_ID and SHIHENG_APP_SECRET (default: demo-app / demo-secret).
// Prints a summary and a fingerprint line (the same form as the Java and
// Python clients'); exits 1 with one line on stderr otherwise.
import { createHash } from "node:crypto";
import createClient from "openapi-fetch";
import { stringify } from "lossless-json";
import type { components, paths } from "./shiheng-open-bigint.js";
import { checkVectors, parseExact, sign } from "./shiheng-sign.js";

type Schemas = components["schemas"];
type Employee = Schemas["Employee"];
type Customer = Schemas["Customer"];
type GroupChat = Schemas["GroupChat"];
type Envelope = { code: string; msg?: string | null; traceId?: string | null };

const ABOVE_2_POW_53 = 9007199254740993n;
const LEADING_ZERO_PHONE = "013577770002";
const VERSION = "1.0";
const MAX_PAGES = 10_000;

class Failure extends Error {}

function arg(name: string): string {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  if (value === undefined) throw new Failure(`usage: list-all.js --base-url URL --vectors FILE (${name} missing)`);
  return value;
}

const appId = process.env["SHIHENG_APP_ID"] || "demo-app";
const secret = process.env["SHIHENG_APP_SECRET"] || "demo-secret";

/** The signed envelope around `paramContent`; the signer fills appId, sign, version, timestamp. */
function envelope<P>(paramContent: P) {
  const timestamp = Date.now();
  return {
    appId,
    version: VERSION,
    timestamp,
    paramContent,
    sign: sign(appId, secret, timestamp, VERSION, paramContent),
  };
}

/** The answer's envelope, parsed exactly, or a Failure naming what went wrong. */
function settle<T extends Envelope>(
  what: string,
  answer: { data?: string; error?: unknown; response: Response },
): T {
  if (answer.data === undefined) {
    const body = typeof answer.error === "string" ? answer.error : JSON.stringify(answer.error);
    throw new Failure(`${what}: HTTP ${answer.response.status}: ${String(body).slice(0, 200)}`);
  }
  const parsed = parseExact(answer.data) as T;
  if (parsed.code !== "0") {
    throw new Failure(`${what}: code ${parsed.code} ${parsed.msg ?? ""} (traceId ${parsed.traceId ?? "none"})`);
  }
  return parsed;
}

/** An id as a bigint whatever its wire size, for keys and comparisons. */
function idOf(item: { id?: number | bigint | null }): bigint {
  if (item.id === null || item.id === undefined) throw new Failure("an item without an id");
  return BigInt(item.id);
}

/** A phone as text: the string as sent, or the number's digits. */
function phoneText(phone: string | number | bigint | null | undefined): string | null {
  return phone === null || phone === undefined ? null : String(phone);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 16);
}

async function main(): Promise<void> {
  const baseUrl = arg("--base-url");
  const checked = checkVectors(arg("--vectors"));
  console.log(`signer: ${checked} sign vectors match (string to sign, sign, uppercase sign)`);

  const client = createClient<paths>({
    baseUrl,
    // Writes bigints as JSON numbers with every digit (JSON.stringify throws on them).
    bodySerializer: (body: unknown) => stringify(body) ?? "",
  });

  const employees: Employee[] = [];
  const seen = new Set<bigint>();
  let total: number | bigint | null | undefined;
  for (let page = 1; ; page++) {
    if (page > MAX_PAGES) throw new Failure(`more than ${MAX_PAGES} pages of employees`);
    const body = envelope({ pageNum: page, pageSize: 50 });
    const answer = await client.POST("/wecom/employee/page", { body, parseAs: "text" });
    const result = settle<Schemas["ListWecomEmployeesResponse"]>(`listWecomEmployees page ${page}`, answer).result;
    if (!result) throw new Failure(`listWecomEmployees page ${page}: no result`);
    total = result.total;
    const items = result.result ?? [];
    for (const e of items) {
      if (!seen.has(idOf(e))) {
        seen.add(idOf(e));
        employees.push(e);
      }
    }
    if (items.length === 0 || result.pages == null || page >= Number(result.pages)) break;
  }
  if (total == null || BigInt(employees.length) !== BigInt(total)) {
    throw new Failure(`listed ${employees.length} employees, the platform reports ${String(total)}`);
  }

  const customers = await cursorListing<Customer>("listWecomCustomers", async (startId) => {
    const body = envelope({ startId, pageSize: 100 });
    const answer = await client.POST("/wecom/customer/list", { body, parseAs: "text" });
    return settle<Schemas["ListWecomCustomersResponse"]>(`listWecomCustomers startId ${startId}`, answer).result;
  });
  const chats = await cursorListing<GroupChat>("listWecomGroupChats", async (startId) => {
    const body = envelope({ startId, pageSize: 100 });
    const answer = await client.POST("/wecom/group-chat/list", { body, parseAs: "text" });
    return settle<Schemas["ListWecomGroupChatsResponse"]>(`listWecomGroupChats startId ${startId}`, answer).result;
  });

  const employeeIds = employees.map(idOf);
  const customerIds = customers.map(idOf);
  const chatIds = chats.map(idOf);
  for (const ids of [employeeIds, customerIds, chatIds]) {
    if (!ids.includes(ABOVE_2_POW_53)) {
      throw new Failure(`id ${ABOVE_2_POW_53} is missing: 64-bit ids were not kept exact`);
    }
  }
  const employeePhones = employees.map((e) => phoneText(e.phone));
  const customerPhones = customers.map((c) => phoneText(c.phone));
  if (!employeePhones.includes(LEADING_ZERO_PHONE) || !customerPhones.includes(LEADING_ZERO_PHONE)) {
    throw new Failure(`phone ${LEADING_ZERO_PHONE} did not survive as text`);
  }
  console.log(
    `typescript client: ${employees.length} employees, ${customers.length} customers, ` +
      `${chats.length} group chats; id ${ABOVE_2_POW_53} exact in each; phone ${LEADING_ZERO_PHONE} kept as text`,
  );
  const join = (values: (bigint | string | null)[]) => values.map((v) => (v === null ? "null" : String(v))).join(",");
  const ids = `employees ${join(employeeIds)}\ncustomers ${join(customerIds)}\ngroupChats ${join(chatIds)}`;
  const phones = `employees ${join(employeePhones)}\ncustomers ${join(customerPhones)}`;
  console.log(
    `fingerprint: employees=${employees.length} customers=${customers.length} groupChats=${chats.length} ` +
      `ids=${sha256(ids)} phones=${sha256(phones)}`,
  );
}

/** Every item of a cursor listing; ids must rise past the cursor, or items would be skipped or repeated. */
async function cursorListing<T extends { id?: number | bigint | null }>(
  operation: string,
  fetchPage: (
    startId: number | bigint,
  ) => Promise<{ nextStartId?: number | bigint | null; result?: T[] | null } | null | undefined>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: number | bigint = 0;
  for (let call = 0; call < MAX_PAGES; call++) {
    const page = await fetchPage(cursor);
    for (const item of page?.result ?? []) {
      if (idOf(item) <= BigInt(cursor)) {
        throw new Failure(`${operation}: id ${idOf(item)} does not follow the cursor ${cursor}`);
      }
      cursor = idOf(item);
      out.push(item);
    }
    const next = page?.nextStartId;
    if (next === null || next === undefined) return out;
    cursor = next;
  }
  throw new Failure(`${operation}: more than ${MAX_PAGES} pages`);
}

main().catch((e: unknown) => {
  console.error(`typescript client: ${e instanceof Failure ? e.message : String(e)}`);
  process.exitCode = 1;
});
