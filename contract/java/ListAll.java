// Lists every employee, customer and customer group chat of a running Shiheng
// sandbox (or platform) through a Java client that openapi-generator
// (library `native`, Jackson) generated from spec/shiheng-open.yaml, signing
// each request with ShihengSign (checked against the sign vectors first).
//
//   java -cp CLASSES:JARS ListAll --base-url URL --vectors tests/fixtures/sign-vectors.json
//
// --jackson-defaults leaves Jackson's default string-to-integer coercion on
// (see phoneText): .ci/contract runs it once to show that it loses the
// leading zero, so the phone check is known to be able to fail.
//
// Credentials come from SHIHENG_APP_ID and SHIHENG_APP_SECRET (default: the
// sandbox's demo-app / demo-secret). Exits 0 after printing a summary and a
// fingerprint line (counts and SHA-256 of the ids and phones as text, in the
// same form as the Python and TypeScript clients, so .ci/contract can compare
// them); 1 with one line on stderr when anything is missing or inexact.

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import shiheng.client.ApiClient;
import shiheng.client.ApiException;
import shiheng.client.api.WecomApi;
import shiheng.client.model.Customer;
import shiheng.client.model.CursorPageParams;
import shiheng.client.model.Employee;
import shiheng.client.model.EmployeePageParams;
import shiheng.client.model.GroupChat;
import shiheng.client.model.ListWecomCustomersRequest;
import shiheng.client.model.ListWecomCustomersResponse;
import shiheng.client.model.ListWecomEmployeesRequest;
import shiheng.client.model.ListWecomEmployeesResponse;
import shiheng.client.model.ListWecomGroupChatsRequest;
import shiheng.client.model.ListWecomGroupChatsResponse;
import shiheng.client.model.PhoneNumber;

public final class ListAll {
    /** The first id above 2^53; a double (JavaScript's number) cannot hold it. */
    static final long ABOVE_2_POW_53 = 9_007_199_254_740_993L;
    /** A phone a client that reads phones as numbers turns into 13577770002. */
    static final String LEADING_ZERO_PHONE = "013577770002";
    static final String VERSION = "1.0";
    static final int MAX_PAGES = 10_000;

    private final WecomApi api;
    private final ObjectMapper mapper;
    private final String appId;
    private final String secret;

    ListAll(WecomApi api, ObjectMapper mapper, String appId, String secret) {
        this.api = api;
        this.mapper = mapper;
        this.appId = appId;
        this.secret = secret;
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (ApiException e) {
            // Code 0: the answer arrived but did not decode; the first line says why.
            fail("HTTP " + e.getCode() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        } catch (Exception e) {
            fail(e.toString());
        }
    }

    static void run(String[] args) throws Exception {
        String baseUrl = null;
        String vectors = null;
        boolean jacksonDefaults = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--base-url" -> baseUrl = i + 1 < args.length ? args[++i] : null;
                case "--vectors" -> vectors = i + 1 < args.length ? args[++i] : null;
                case "--jackson-defaults" -> jacksonDefaults = true;
                default -> fail("unknown argument " + args[i]);
            }
        }
        if (baseUrl == null || vectors == null) {
            fail("usage: ListAll --base-url URL --vectors sign-vectors.json");
        }
        ApiClient client = new ApiClient();
        client.updateBaseUri(baseUrl);
        client.setReadTimeout(Duration.ofSeconds(30));
        ObjectMapper mapper = client.getObjectMapper();
        if (!jacksonDefaults) {
            // The spec's PhoneNumber description: without this, the anyOf wrapper's
            // Long branch accepts "013577770002" and the leading zero is gone.
            mapper.coercionConfigFor(LogicalType.Integer)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail);
            // getObjectMapper() hands out a copy: put the configured one back
            // before the API object takes its own copy.
            client.setObjectMapper(mapper);
        }
        int checked = ShihengSign.checkVectors(Path.of(vectors), mapper);
        System.out.println("signer: " + checked + " sign vectors match (string to sign, sign, uppercase sign)");

        ListAll lister = new ListAll(new WecomApi(client), mapper,
                env("SHIHENG_APP_ID", "demo-app"), env("SHIHENG_APP_SECRET", "demo-secret"));
        List<Employee> employees = lister.employees();
        List<Customer> customers = lister.customers();
        List<GroupChat> chats = lister.groupChats();

        List<Long> employeeIds = employees.stream().map(Employee::getId).toList();
        List<Long> customerIds = customers.stream().map(Customer::getId).toList();
        List<Long> chatIds = chats.stream().map(GroupChat::getId).toList();
        for (List<Long> ids : List.of(employeeIds, customerIds, chatIds)) {
            if (!ids.contains(ABOVE_2_POW_53)) {
                fail("id " + ABOVE_2_POW_53 + " is missing: 64-bit ids were not kept exact");
            }
        }
        List<String> employeePhones = employees.stream().map(e -> phoneText(e.getPhone())).toList();
        List<String> customerPhones = customers.stream().map(c -> phoneText(c.getPhone())).toList();
        if (!employeePhones.contains(LEADING_ZERO_PHONE) || !customerPhones.contains(LEADING_ZERO_PHONE)) {
            fail("phone " + LEADING_ZERO_PHONE + " did not survive as text");
        }
        System.out.printf("java client: %d employees, %d customers, %d group chats; id %d exact in each; phone %s kept as text%n",
                employees.size(), customers.size(), chats.size(), ABOVE_2_POW_53, LEADING_ZERO_PHONE);
        String ids = "employees " + join(employeeIds) + "\ncustomers " + join(customerIds) + "\ngroupChats " + join(chatIds);
        String phones = "employees " + join(employeePhones) + "\ncustomers " + join(customerPhones);
        System.out.printf("fingerprint: employees=%d customers=%d groupChats=%d ids=%s phones=%s%n",
                employees.size(), customers.size(), chats.size(), sha256(ids), sha256(phones));
    }

    /** Every employee, page by page, checked against the platform's `total`. */
    List<Employee> employees() throws ApiException {
        Set<Long> seen = new LinkedHashSet<>();
        List<Employee> out = new ArrayList<>();
        Long total = null;
        for (int page = 1; page <= MAX_PAGES; page++) {
            EmployeePageParams params = new EmployeePageParams().pageNum(page).pageSize(50);
            long now = System.currentTimeMillis();
            ListWecomEmployeesRequest body = new ListWecomEmployeesRequest()
                    .appId(appId).version(VERSION).timestamp(now).paramContent(params)
                    .sign(ShihengSign.sign(appId, secret, now, VERSION, mapper.valueToTree(params)));
            ListWecomEmployeesResponse answer = api.listWecomEmployees(body);
            check("listWecomEmployees page " + page, answer.getCode(), answer.getMsg(), answer.getTraceId());
            if (answer.getResult() == null) {
                fail("listWecomEmployees page " + page + ": no result");
            }
            total = answer.getResult().getTotal();
            List<Employee> items = answer.getResult().getResult() == null ? List.of() : answer.getResult().getResult();
            for (Employee e : items) {
                if (seen.add(e.getId())) {
                    out.add(e);
                }
            }
            Long pages = answer.getResult().getPages();
            if (items.isEmpty() || pages == null || page >= pages) {
                if (total == null || out.size() != total) {
                    fail("listed " + out.size() + " employees, the platform reports " + total);
                }
                return out;
            }
        }
        throw new IllegalStateException("more than " + MAX_PAGES + " pages of employees");
    }

    /** Every customer, cursor by cursor (ids ascending, each page after the cursor). */
    List<Customer> customers() throws ApiException {
        List<Customer> out = new ArrayList<>();
        long cursor = 0;
        for (int call = 0; call < MAX_PAGES; call++) {
            CursorPageParams params = new CursorPageParams().startId(cursor).pageSize(100);
            long now = System.currentTimeMillis();
            ListWecomCustomersRequest body = new ListWecomCustomersRequest()
                    .appId(appId).version(VERSION).timestamp(now).paramContent(params)
                    .sign(ShihengSign.sign(appId, secret, now, VERSION, mapper.valueToTree(params)));
            ListWecomCustomersResponse answer = api.listWecomCustomers(body);
            check("listWecomCustomers startId " + cursor, answer.getCode(), answer.getMsg(), answer.getTraceId());
            List<Customer> items = answer.getResult() == null || answer.getResult().getResult() == null
                    ? List.of() : answer.getResult().getResult();
            for (Customer c : items) {
                cursor = advance(cursor, c.getId(), "listWecomCustomers");
                out.add(c);
            }
            Long next = answer.getResult() == null ? null : answer.getResult().getNextStartId();
            if (next == null) {
                return out;
            }
            cursor = next;
        }
        throw new IllegalStateException("more than " + MAX_PAGES + " pages of customers");
    }

    /** Every customer group chat, cursor by cursor. */
    List<GroupChat> groupChats() throws ApiException {
        List<GroupChat> out = new ArrayList<>();
        long cursor = 0;
        for (int call = 0; call < MAX_PAGES; call++) {
            CursorPageParams params = new CursorPageParams().startId(cursor).pageSize(100);
            long now = System.currentTimeMillis();
            ListWecomGroupChatsRequest body = new ListWecomGroupChatsRequest()
                    .appId(appId).version(VERSION).timestamp(now).paramContent(params)
                    .sign(ShihengSign.sign(appId, secret, now, VERSION, mapper.valueToTree(params)));
            ListWecomGroupChatsResponse answer = api.listWecomGroupChats(body);
            check("listWecomGroupChats startId " + cursor, answer.getCode(), answer.getMsg(), answer.getTraceId());
            List<GroupChat> items = answer.getResult() == null || answer.getResult().getResult() == null
                    ? List.of() : answer.getResult().getResult();
            for (GroupChat g : items) {
                cursor = advance(cursor, g.getId(), "listWecomGroupChats");
                out.add(g);
            }
            Long next = answer.getResult() == null ? null : answer.getResult().getNextStartId();
            if (next == null) {
                return out;
            }
            cursor = next;
        }
        throw new IllegalStateException("more than " + MAX_PAGES + " pages of group chats");
    }

    /** A cursor listing's ids must rise: anything else would skip or repeat items. */
    static long advance(long cursor, Long id, String operation) {
        if (id == null || id <= cursor) {
            fail(operation + ": id " + id + " does not follow the cursor " + cursor);
        }
        return id;
    }

    /**
     * A phone as text, digit for digit: the anyOf wrapper holds the String as
     * sent or the Long the platform sent as a number (with string-to-integer
     * coercion refused, a digit string never becomes a Long).
     */
    static String phoneText(PhoneNumber phone) {
        if (phone == null || phone.getActualInstance() == null) {
            return null;
        }
        return phone.getActualInstance().toString();
    }

    static void check(String what, String code, String msg, String traceId) {
        if (!"0".equals(code)) {
            fail(what + ": code " + code + " " + msg + " (traceId " + traceId + ")");
        }
    }

    static String join(List<?> values) {
        StringBuilder out = new StringBuilder();
        for (Object v : values) {
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(v == null ? "null" : v.toString());
        }
        return out.toString();
    }

    static String sha256(String text) throws Exception {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest).substring(0, 16);
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    static void fail(String message) {
        System.err.println("java client: " + message);
        System.exit(1);
    }
}
