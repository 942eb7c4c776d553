//! What the importer reads out of words: bounds written into descriptions
//! (`[>= 1]`, `[1~50]`), value lists in prose (`0-未知 1=已激活`,
//! `0表示未定义,1表示男性`), English glosses of field names, and the naming
//! rules (operationId → schema names).

/// Bounds read from a description, as written.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    /// The smallest value allowed.
    pub min: Option<f64>,
    /// The largest value allowed.
    pub max: Option<f64>,
}

/// The first bracketed bound in `text`, and the text it was read from:
/// `[>= 1]`, `[> 0]`, `[<= 100]`, `[1~50]`, `[0-100]`, `[1, 50]`, `[1..50]`,
/// full-width brackets and `≥`/`≤` included.
pub fn bounds(text: &str) -> Option<(Bounds, String)> {
    let normalized: String = text
        .chars()
        .map(|c| match c {
            '［' => '[',
            '］' => ']',
            '～' | '〜' => '~',
            '，' => ',',
            '＞' => '>',
            '＜' => '<',
            '＝' => '=',
            c => c,
        })
        .collect();
    let mut rest = normalized.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let close = after.find(']')?;
        let inner = after[..close].trim();
        if let Some(b) = bracket(inner) {
            return Some((b, format!("[{inner}]")));
        }
        rest = &after[close + 1..];
    }
    None
}

fn bracket(inner: &str) -> Option<Bounds> {
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let inner = inner.replace('≥', ">=").replace('≤', "<=");
    for (op, min_side, strict) in [
        (">=", true, false),
        ("<=", false, false),
        (">", true, true),
        ("<", false, true),
    ] {
        if let Some(value) = inner.strip_prefix(op).and_then(number) {
            // A strict bound on an integer is the next integer.
            let value = match (strict, min_side) {
                (false, _) => value,
                (true, true) => value.floor() + 1.0,
                (true, false) => value.ceil() - 1.0,
            };
            return Some(if min_side {
                Bounds {
                    min: Some(value),
                    max: None,
                }
            } else {
                Bounds {
                    min: None,
                    max: Some(value),
                }
            });
        }
    }
    for separator in ["~", "..", ",", "-"] {
        // `-` also signs numbers: split on the last one that has digits on both sides.
        let parts: Option<(&str, &str)> = if separator == "-" {
            inner
                .char_indices()
                .filter(|&(i, c)| c == '-' && i > 0)
                .map(|(i, _)| (&inner[..i], &inner[i + 1..]))
                .find(|(a, b)| number(a).is_some() && number(b).is_some())
        } else {
            inner.split_once(separator)
        };
        if let Some((a, b)) = parts
            && let (Some(min), Some(max)) = (number(a), number(b))
            && min <= max
        {
            return Some(Bounds {
                min: Some(min),
                max: Some(max),
            });
        }
    }
    None
}

/// One documented value of a value list.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownValue {
    /// The number, as the platform sends it.
    pub value: i64,
    /// The words after it (`已激活`).
    pub meaning: String,
}

/// A value list in prose: segments like `1=已激活`, `0-未知`, `1:男`,
/// `0表示未定义`, separated by spaces, commas or sentence ends. Two or more
/// such segments make a list; anything else is no list.
pub fn known_values(text: &str) -> Vec<KnownValue> {
    let without_bounds = match bounds(text) {
        Some((_, written)) => text.replacen(&written, " ", 1),
        None => text.to_string(),
    };
    let mut found: Vec<KnownValue> = Vec::new();
    for segment in without_bounds.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | '，' | '、' | ';' | '；' | '。' | '(' | ')' | '（' | '）'
            )
    }) {
        let digits: String = segment.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > 9 {
            continue;
        }
        let rest = &segment[digits.len()..];
        let meaning = ["表示", "代表", "=", "-", ":", "：", "为", "是"]
            .iter()
            .find_map(|sep| rest.strip_prefix(sep))
            .map(str::trim);
        let Some(meaning) = meaning.filter(|m| {
            m.chars()
                .next()
                .is_some_and(|c| !c.is_ascii_digit() && c != '-' && c != '.')
        }) else {
            continue;
        };
        let Ok(value) = digits.parse::<i64>() else {
            continue;
        };
        if !found.iter().any(|k| k.value == value) {
            found.push(KnownValue {
                value,
                meaning: meaning.to_string(),
            });
        }
    }
    if found.len() >= 2 { found } else { Vec::new() }
}

/// The words of a camelCase or snake_case name, lowercase:
/// `weComUserId` → `we com user id`, `qrCodeUrl` → `qr code url`.
pub fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c == '$' {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let boundary = c.is_ascii_uppercase()
            && !current.is_empty()
            && (!chars[i - 1].is_ascii_uppercase()
                || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase()));
        let digit_boundary =
            !current.is_empty() && (c.is_ascii_digit() != chars[i - 1].is_ascii_digit());
        if boundary || digit_boundary {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// UpperCamelCase of a name: `listWecomEmployees` → `ListWecomEmployees`.
pub fn upper_camel(name: &str) -> String {
    words(name).iter().map(|w| capitalize(w)).collect()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The English words for field-name words; a name with any other word gets
/// no English gloss (its Chinese description is left alone).
const GLOSSARY: &[(&str, &str)] = &[
    ("account", "account"),
    ("active", "active"),
    ("add", "add"),
    ("address", "address"),
    ("admin", "admin"),
    ("agent", "agent"),
    ("alias", "alias"),
    ("amount", "amount"),
    ("app", "app"),
    ("area", "area"),
    ("avatar", "avatar"),
    ("brand", "brand"),
    ("business", "business"),
    ("channel", "channel"),
    ("chat", "chat"),
    ("city", "city"),
    ("code", "code"),
    ("com", "Com"),
    ("contact", "contact"),
    ("content", "content"),
    ("corp", "corp"),
    ("count", "count"),
    ("create", "create"),
    ("created", "created"),
    ("customer", "customer"),
    ("date", "date"),
    ("deleted", "deleted"),
    ("department", "department"),
    ("desc", "description"),
    ("description", "description"),
    ("email", "email"),
    ("employee", "employee"),
    ("end", "end"),
    ("external", "external"),
    ("flag", "flag"),
    ("follow", "follow"),
    ("gender", "gender"),
    ("group", "group"),
    ("id", "id"),
    ("ids", "ids"),
    ("industry", "industry"),
    ("info", "info"),
    ("is", "is"),
    ("lat", "latitude"),
    ("level", "level"),
    ("list", "list"),
    ("lng", "longitude"),
    ("member", "member"),
    ("mobile", "mobile"),
    ("msg", "message"),
    ("name", "name"),
    ("next", "next"),
    ("nick", "nick"),
    ("notice", "notice"),
    ("num", "number"),
    ("number", "number"),
    ("open", "open"),
    ("order", "order"),
    ("owner", "owner"),
    ("page", "page"),
    ("pages", "pages"),
    ("phone", "phone"),
    ("position", "position"),
    ("price", "price"),
    ("province", "province"),
    ("qr", "QR"),
    ("region", "region"),
    ("remark", "remark"),
    ("rule", "rule"),
    ("rules", "rules"),
    ("sh", "Shiheng"),
    ("shop", "shop"),
    ("size", "size"),
    ("sort", "sort"),
    ("source", "source"),
    ("start", "start"),
    ("status", "status"),
    ("store", "store"),
    ("tag", "tag"),
    ("tags", "tags"),
    ("time", "time"),
    ("title", "title"),
    ("total", "total"),
    ("type", "type"),
    ("union", "union"),
    ("update", "update"),
    ("updated", "updated"),
    ("url", "URL"),
    ("user", "user"),
    ("value", "value"),
    ("values", "values"),
    ("verified", "verified"),
    ("we", "We"),
    ("weight", "weight"),
];

/// An English gloss of a field name when every word of it is known:
/// `weComUserId` → `WeCom user id`, `qrCodeUrl` → `QR code URL`.
pub fn english(name: &str) -> Option<String> {
    let words = words(name);
    let mut glossed = Vec::with_capacity(words.len());
    for word in &words {
        let gloss = |w: &str| {
            GLOSSARY
                .iter()
                .find(|(g, _)| *g == w)
                .map(|(_, e)| e.to_string())
        };
        // A plural of a known word: `admins` → `admins`.
        let english = gloss(word).or_else(|| {
            let one = singular(word);
            (one != *word)
                .then(|| gloss(&one))
                .flatten()
                .map(|e| format!("{e}s"))
        })?;
        glossed.push(english);
    }
    let mut text = String::new();
    for (i, word) in glossed.iter().enumerate() {
        // "We" + "Com" is one word, WeCom.
        if i > 0 && !(glossed[i - 1] == "We" && word == "Com") {
            text.push(' ');
        }
        text.push_str(word);
    }
    let mut chars = text.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().collect::<String>() + chars.as_str())
}

/// Leading verbs of operationIds that only read; they are dropped from the
/// item's name and make the operation idempotent.
pub const READ_VERBS: &[&str] = &[
    "list", "query", "get", "page", "search", "find", "fetch", "count", "batch",
];

/// The singular of an English plural, for item names: `Employees` →
/// `Employee`, `Categories` → `Category`, `Addresses` → `Address`.
pub fn singular(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if lower.ends_with("ies") && word.len() > 4 {
        format!("{}y", &word[..word.len() - 3])
    } else if ["sses", "xes", "ches", "shes", "zes"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        word[..word.len() - 2].to_string()
    } else if lower.ends_with('s') && !["ss", "us", "is", "os"].iter().any(|s| lower.ends_with(s)) {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// The item name of an operation: its words without a leading read verb and
/// without the words of its tag (the path's first segment, e.g. `wecom`),
/// the last word made singular, in UpperCamelCase.
/// `listWecomEmployees` (tag wecom) → `Employee`, `listWecomGroupChats` →
/// `GroupChat`, `getWecomCorpInfo` → `CorpInfo`.
pub fn item_name(operation_id: &str, tag: &str) -> String {
    let mut words = words(operation_id);
    if words.len() > 1 && READ_VERBS.contains(&words[0].as_str()) {
        words.remove(0);
    }
    let tag_words = self::words(tag);
    if !tag_words.is_empty()
        && words.len() > tag_words.len()
        && words[..tag_words.len()] == tag_words[..]
    {
        words.drain(..tag_words.len());
    }
    let last = words.len() - 1;
    words[last] = singular(&words[last]);
    words.iter().map(|w| capitalize(w)).collect()
}

/// Whether the operationId starts with a read verb.
pub fn is_read(operation_id: &str) -> bool {
    words(operation_id)
        .first()
        .is_some_and(|w| READ_VERBS.contains(&w.as_str()))
}

/// `listWecomEmployees` → `List WeCom employees`.
pub fn summary(operation_id: &str) -> String {
    let words = words(operation_id);
    let mut out: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let word = match word.as_str() {
            "wecom" => "WeCom".to_string(),
            w if i == 0 => capitalize(w),
            w => w.to_string(),
        };
        out.push(word);
    }
    out.join(" ")
}

/// kebab-case: `listWecomTags` → `list-wecom-tags`.
pub fn kebab(name: &str) -> String {
    words(name).join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_as_pages_write_them() {
        let b = |t: &str| bounds(t).map(|(b, _)| (b.min, b.max));
        assert_eq!(b("页码 [>= 1]"), Some((Some(1.0), None)));
        assert_eq!(b("每页条数 [1~50]"), Some((Some(1.0), Some(50.0))));
        assert_eq!(b("比例 [0~100]"), Some((Some(0.0), Some(100.0))));
        assert_eq!(b("x ［1～100］"), Some((Some(1.0), Some(100.0))));
        assert_eq!(b("x [> 0]"), Some((Some(1.0), None)));
        assert_eq!(b("x [<= 200]"), Some((None, Some(200.0))));
        assert_eq!(b("x [0-100]"), Some((Some(0.0), Some(100.0))));
        assert_eq!(b("x [-5, 5]"), Some((Some(-5.0), Some(5.0))));
        assert_eq!(b("x [see note] [1..9]"), Some((Some(1.0), Some(9.0))));
        assert_eq!(b("no bounds"), None);
        assert_eq!(b("[9~1]"), None);
    }

    #[test]
    fn value_lists_in_prose() {
        let values = |t: &str| -> Vec<(i64, String)> {
            known_values(t)
                .into_iter()
                .map(|k| (k.value, k.meaning))
                .collect()
        };
        assert_eq!(
            values("员工状态 0-未知 1=已激活,2=已禁用,4=未激活,5=退出企业"),
            [
                (0, "未知".into()),
                (1, "已激活".into()),
                (2, "已禁用".into()),
                (4, "未激活".into()),
                (5, "退出企业".into())
            ]
        );
        assert_eq!(
            values(
                "性别。0表示未定义,1表示男性,2表示女性。仅在用户同意snsapi_privateinfo授权时返回真实值,否则返回0."
            ),
            [(0, "未定义".into()), (1, "男性".into()), (2, "女性".into())]
        );
        assert_eq!(
            values("是否拥有客户联系权限 0-否 1-是"),
            [(0, "否".into()), (1, "是".into())]
        );
        assert!(values("每页条数 [1-50]").is_empty());
        assert!(values("创建时间 2023-01-01").is_empty());
        assert!(values("只有 1=一个").is_empty());
    }

    #[test]
    fn names() {
        assert_eq!(words("weComUserId"), ["we", "com", "user", "id"]);
        assert_eq!(words("qrCodeUrl"), ["qr", "code", "url"]);
        assert_eq!(words("HTTPServer2x"), ["http", "server", "2", "x"]);
        assert_eq!(english("weComUserId").as_deref(), Some("WeCom user id"));
        assert_eq!(english("qrCodeUrl").as_deref(), Some("QR code URL"));
        assert_eq!(english("pageNum").as_deref(), Some("Page number"));
        assert_eq!(english("snsapiScope"), None);
        assert_eq!(item_name("listWecomEmployees", "wecom"), "Employee");
        assert_eq!(item_name("listWecomGroupChats", "wecom"), "GroupChat");
        assert_eq!(item_name("getWecomCorpInfo", "wecom"), "CorpInfo");
        assert_eq!(item_name("listWecomTags", "wecom"), "Tag");
        assert_eq!(item_name("queryStoreCategories", "shop"), "StoreCategory");
        assert_eq!(item_name("listAddresses", "x"), "Address");
        assert_eq!(item_name("getStatus", "x"), "Status");
        assert_eq!(upper_camel("listWecomEmployees"), "ListWecomEmployees");
        assert_eq!(summary("listWecomEmployees"), "List WeCom employees");
        assert_eq!(kebab("listWecomTags"), "list-wecom-tags");
        assert!(is_read("queryX") && !is_read("createX"));
    }
}
