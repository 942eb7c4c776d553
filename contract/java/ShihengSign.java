// The Shiheng Open Platform's default request signature, written from the
// signing rule in spec/shiheng-open.yaml (info.description) with the JDK and
// Jackson's tree model only: an implementation independent of the Rust crate.
//
//   sign = md5(sorted "name=value" pairs joined by "&" + secret), lowercase hex
//
// paramContent is canonical JSON. Jackson's own writer is NOT used for it: it
// escapes differently from the rule (and Gson's default HTML-safe escaping
// turns '<' into \u003c), and Java's String.compareTo orders keys by UTF-16
// units, not by code point. Both would give another sign and a 40001.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

public final class ShihengSign {
    private ShihengSign() {}

    /** Orders strings by their UTF-8 bytes, which is Unicode code point order. */
    public static final Comparator<String> BY_CODE_POINT = (a, b) ->
            Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    /** The text before the secret: parameters sorted by name, as name=value joined by &. */
    public static String stringToSign(String appId, long timestamp, String version, JsonNode paramContent) {
        Map<String, String> params = new TreeMap<>(BY_CODE_POINT);
        params.put("appId", appId);
        params.put("timestamp", Long.toString(timestamp));
        params.put("version", version);
        if (paramContent != null && !paramContent.isMissingNode()) {
            params.put("paramContent", canonicalJson(paramContent));
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, String> entry : params.entrySet()) {
            if (out.length() > 0) {
                out.append('&');
            }
            out.append(entry.getKey()).append('=').append(entry.getValue());
        }
        return out.toString();
    }

    /** The `sign` field: lowercase hex MD5 of the UTF-8 bytes of the string to sign + the secret. */
    public static String sign(String appId, String secret, long timestamp, String version, JsonNode paramContent) {
        String text = stringToSign(appId, timestamp, version, paramContent) + secret;
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(32);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no MD5", e);
        }
    }

    /** Compact JSON, keys sorted by code point at every depth, only the rule's escapes. */
    public static String canonicalJson(JsonNode value) {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.toString();
    }

    private static void write(StringBuilder out, JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                List<String> keys = new ArrayList<>();
                node.fieldNames().forEachRemaining(keys::add);
                keys.sort(BY_CODE_POINT);
                out.append('{');
                for (int i = 0; i < keys.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    writeString(out, keys.get(i));
                    out.append(':');
                    write(out, node.get(keys.get(i)));
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                Iterator<JsonNode> items = node.elements();
                for (int i = 0; items.hasNext(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(out, items.next());
                }
                out.append(']');
            }
            case STRING -> writeString(out, node.textValue());
            case NUMBER -> {
                if (!node.isIntegralNumber()) {
                    throw new IllegalArgumentException("the signing rule does not define floating-point parameters: " + node);
                }
                out.append(node.bigIntegerValue());
            }
            case BOOLEAN -> out.append(node.booleanValue());
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
        }
    }

    private static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Checks every case of sign-vectors.json (string to sign, sign, uppercase sign); returns how many. */
    public static int checkVectors(Path path, ObjectMapper mapper) throws IOException {
        // Bytes, not a Reader: Jackson decodes them as UTF-8 whatever file.encoding says.
        JsonNode cases = mapper.readTree(Files.readAllBytes(path)).get("cases");
        int checked = 0;
        for (JsonNode c : cases) {
            String name = c.get("name").textValue();
            String appId = c.get("appId").textValue();
            long timestamp = c.get("timestamp").longValue();
            String version = c.get("version").textValue();
            JsonNode params = c.get("paramContent");
            if (c.has("paramContentText")) {
                // The exact text sent: Jackson reads integers beyond 64 bits as BigInteger, -0 as 0.
                params = mapper.readTree(c.get("paramContentText").textValue());
            }
            String expected = c.get("stringToSign").textValue();
            String got = stringToSign(appId, timestamp, version, params);
            if (!got.equals(expected)) {
                throw new AssertionError(name + ": string to sign " + got + " != " + expected);
            }
            String sign = sign(appId, c.get("appSecret").textValue(), timestamp, version, params);
            if (!sign.equals(c.get("sign").textValue())) {
                throw new AssertionError(name + ": sign " + sign + " != " + c.get("sign").textValue());
            }
            String upper = sign.toUpperCase(Locale.ROOT);
            if (!upper.equals(c.get("signUppercase").textValue())) {
                throw new AssertionError(name + ": uppercase sign " + upper + " != " + c.get("signUppercase").textValue());
            }
            checked++;
        }
        return checked;
    }
}
