//! The sandbox's data: a seeded, deterministic generator of employees,
//! customers and group chats that look like the platform's published samples
//! (Chinese names, an undocumented status, phones as numbers or strings,
//! flags as booleans or 0/1, consent-gated fields often null), and the
//! in-memory tables the server pages through.

use serde_json::{Value, json};

/// The first id above 2^53: a JavaScript `number` cannot hold it, so a client
/// that loses precision anywhere returns a different id.
pub(crate) const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;

/// splitmix64: tiny, fast and good enough for test data and fault decisions;
/// hand-written so the crate needs no `rand`.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for one item, independent of how many items came before,
    /// so that inserting items never changes the others.
    pub(crate) fn for_item(seed: u64, table: u64, index: u64) -> Self {
        Self(mix(seed ^ mix(table.wrapping_add(mix(index)))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const SURNAMES: &[(&str, &str)] = &[
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("马", "Ma"),
    ("朱", "Zhu"),
    ("胡", "Hu"),
    ("郭", "Guo"),
    ("何", "He"),
    ("林", "Lin"),
    ("罗", "Luo"),
    ("高", "Gao"),
    ("郑", "Zheng"),
    ("梁", "Liang"),
    ("谢", "Xie"),
    ("宋", "Song"),
    ("唐", "Tang"),
    ("韩", "Han"),
    ("冯", "Feng"),
    ("邓", "Deng"),
    ("曹", "Cao"),
    ("欧阳", "OuYang"),
];

const GIVEN: &[(&str, &str)] = &[
    ("伟", "Wei"),
    ("芳", "Fang"),
    ("娜", "Na"),
    ("敏", "Min"),
    ("静", "Jing"),
    ("丽", "Li"),
    ("强", "Qiang"),
    ("磊", "Lei"),
    ("军", "Jun"),
    ("洋", "Yang"),
    ("勇", "Yong"),
    ("艳", "Yan"),
    ("杰", "Jie"),
    ("娟", "Juan"),
    ("涛", "Tao"),
    ("明", "Ming"),
    ("超", "Chao"),
    ("秀", "Xiu"),
    ("霞", "Xia"),
    ("平", "Ping"),
    ("刚", "Gang"),
    ("英", "Ying"),
    ("华", "Hua"),
    ("玉", "Yu"),
    ("兰", "Lan"),
    ("婷", "Ting"),
    ("浩", "Hao"),
    ("宇", "Yu"),
    ("欣", "Xin"),
    ("晨", "Chen"),
    ("佳", "Jia"),
    ("怡", "Yi"),
    ("子", "Zi"),
    ("涵", "Han"),
    ("轩", "Xuan"),
];

const NICKNAMES: &[&str] = &[
    "小王同学",
    "吃货一枚",
    "阳光总在风雨后",
    "Coco",
    "🍜面条控",
    "A-Lin",
    "奶茶续命",
    "周末去哪儿",
    "Mr.Li",
    "静待花开",
    "干饭人",
    "Sunny",
    "不吃香菜",
    "快乐星球",
];

const BRANDS: &[&str] = &[
    "食亨小馆",
    "川味坊",
    "粤点心",
    "湘里人家",
    "面面俱到",
    "一碗鲜",
];
const DISTRICTS: &[&str] = &[
    "徐汇", "静安", "浦东", "朝阳", "海淀", "天河", "南山", "西湖", "武侯", "江北",
];
const REMARKS: &[&str] = &["老顾客", "喜欢微辣", "生日 3 月", "企业团餐", "不要葱"];
const NOTICES: &[&str] = &[
    "本群每周三会员日，全场 8 折。",
    "新品上市，欢迎到店品尝！",
    "外卖下单请备注群昵称，赠小菜一份。",
];

/// A person's name in characters and in pinyin.
fn person(rng: &mut Rng) -> (String, String) {
    let (surname, surname_py) = *rng.pick(SURNAMES);
    let mut name = surname.to_string();
    let mut pinyin = surname_py.to_string();
    for _ in 0..=rng.below(2) {
        let (given, given_py) = *rng.pick(GIVEN);
        name.push_str(given);
        pinyin.push_str(given_py);
    }
    (name, pinyin)
}

fn alnum(rng: &mut Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| char::from(*rng.pick(CHARS))).collect()
}

fn shop(rng: &mut Rng) -> String {
    format!("{}({}店)", rng.pick(BRANDS), rng.pick(DISTRICTS))
}

/// A mobile number, sent as a JSON number or a string as the samples do.
fn phone(rng: &mut Rng) -> Value {
    let prefixes = [135u64, 136, 138, 139, 150, 158, 177, 186, 188, 199];
    let number = rng.pick(&prefixes) * 100_000_000 + rng.below(100_000_000);
    if rng.chance(0.5) {
        json!(number)
    } else {
        json!(number.to_string())
    }
}

/// The second employee's and customer's phone: digit text with a leading
/// zero, which a client that reads phones as numbers turns into another
/// number. Fixed, so every client's check can look for it.
fn leading_zero_phone(index: u64) -> Option<Value> {
    (index == 1).then(|| json!("013577770002"))
}

/// Epoch milliseconds between 2021 and 2024, as a number (the samples) or,
/// now and then, as digit text (the tables' type).
fn time(rng: &mut Rng) -> Value {
    let ms = 1_609_459_200_000i64 + (rng.below(4 * 365 * 86_400) as i64) * 1000;
    if rng.chance(0.1) {
        json!(ms.to_string())
    } else {
        json!(ms)
    }
}

fn maybe(rng: &mut Rng, p_present: f64, value: impl FnOnce(&mut Rng) -> Value) -> Value {
    if rng.chance(p_present) {
        value(rng)
    } else {
        Value::Null
    }
}

/// The corp's id, derived from the seed.
pub(crate) fn corp_id(seed: u64) -> String {
    format!("ww{:016x}", mix(seed ^ 0xC0_2B))
}

/// One employee as the platform sends it.
pub(crate) fn employee(seed: u64, index: u64, id: i64) -> Value {
    let mut rng = Rng::for_item(seed, 1, index);
    let (name, pinyin) = person(&mut rng);
    let user_id = format!("{pinyin}{:03}", index % 1000);
    // The published sample sends 6, which the field table does not list.
    let status = if index == 0 {
        6
    } else {
        *rng.pick(&[1, 1, 1, 1, 1, 1, 1, 2, 4, 5, 0, 6])
    };
    let follow = match rng.below(5) {
        0 => json!(0),
        1 => json!(1),
        2 => Value::Null,
        _ => json!(rng.chance(0.7)),
    };
    let consented = rng.chance(0.35);
    let gated = |rng: &mut Rng, value: Value| {
        if consented && rng.chance(0.8) {
            value
        } else {
            Value::Null
        }
    };
    let gender = if consented {
        json!(rng.pick(&["1", "2"]).to_string())
    } else {
        rng.pick(&[json!("0"), Value::Null]).clone()
    };
    let avatar = json!(format!(
        "https://wework.qpic.cn/wwhead/{}/0",
        alnum(&mut rng, 24)
    ));
    let avatar = gated(&mut rng, avatar);
    let qr = json!(format!(
        "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode={}",
        alnum(&mut rng, 16)
    ));
    let qr = gated(&mut rng, qr);
    let mobile = json!(format!("1{}", 3_000_000_000 + rng.below(6_000_000_000)));
    let mobile = gated(&mut rng, mobile);
    let email = gated(
        &mut rng,
        json!(format!("{}@example.cn", pinyin.to_lowercase())),
    );
    let business_email = gated(
        &mut rng,
        json!(format!("{}@corp.example.cn", pinyin.to_lowercase())),
    );
    let address = json!(format!(
        "上海市{}区{}路{}号",
        rng.pick(DISTRICTS),
        rng.pick(GIVEN).0,
        1 + rng.below(999)
    ));
    let address = gated(&mut rng, address);
    let phone = maybe(&mut rng, 0.6, phone);
    let phone = leading_zero_phone(index).unwrap_or(phone);
    json!({
        "id": id,
        "weComUserId": user_id,
        "status": status,
        "name": name,
        "corpId": corp_id(seed),
        "followUserFlag": follow,
        "userId": if rng.chance(0.7) { json!(user_id) } else { Value::Null },
        "gender": gender,
        "avatarUrl": avatar,
        "qrCodeUrl": qr,
        "mobileNumber": mobile,
        "emailAddress": email,
        "businessEmail": business_email,
        "address": address,
        "phone": phone,
    })
}

/// One customer (external contact) as the platform sends it.
pub(crate) fn customer(seed: u64, index: u64, id: i64) -> Value {
    let mut rng = Rng::for_item(seed, 2, index);
    let name = if rng.chance(0.6) {
        person(&mut rng).0
    } else {
        rng.pick(NICKNAMES).to_string()
    };
    let member_id = maybe(&mut rng, 0.8, |r| json!(1000 + r.below(9_000_000)));
    let union_id = maybe(&mut rng, 0.6, |r| json!(format!("o{}", alnum(r, 27))));
    let remark = maybe(&mut rng, 0.3, |r| json!(r.pick(REMARKS)));
    let avatar = format!("http://wx.qlogo.cn/mmhead/{}/0", alnum(&mut rng, 32));
    let phone = maybe(&mut rng, 0.5, phone);
    let phone = leading_zero_phone(index).unwrap_or(phone);
    json!({
        "id": id,
        "memberId": member_id,
        "weComUserId": format!("wm{}", alnum(&mut rng, 30)),
        "corpId": corp_id(seed),
        "name": name,
        "unionId": union_id,
        "remark": remark,
        "avatar": avatar,
        "phone": phone,
        "shCreateTime": time(&mut rng),
    })
}

/// One customer group chat as the platform sends it; `owner` is an employee's
/// (id, name) when there are employees.
pub(crate) fn group_chat(seed: u64, index: u64, id: i64, owner: Option<(i64, String)>) -> Value {
    let mut rng = Rng::for_item(seed, 3, index);
    let shop_name = shop(&mut rng);
    let chat_name = format!("{}会员{}群", shop_name, 1 + rng.below(20));
    let admins = maybe(&mut rng, 0.3, |r| {
        json!(format!(
            "{}{:03},{}{:03}",
            r.pick(SURNAMES).1,
            r.below(1000),
            r.pick(SURNAMES).1,
            r.below(1000)
        ))
    });
    let notice = maybe(&mut rng, 0.3, |r| json!(r.pick(NOTICES)));
    let (employee_id, owner_name) = match owner {
        Some((id, name)) => (
            json!(id),
            if rng.chance(0.7) {
                json!(name)
            } else {
                Value::Null
            },
        ),
        None => (Value::Null, Value::Null),
    };
    json!({
        "id": id,
        "corpId": corp_id(seed),
        "chatId": format!("wr{}", alnum(&mut rng, 30)),
        "chatName": chat_name,
        "employeeId": employee_id,
        "chatCreateTime": time(&mut rng),
        "notice": notice,
        "num": 1 + rng.below(500),
        "status": rng.below(4),
        "shopName": shop_name,
        "adminUserList": admins,
        "ownerName": owner_name,
    })
}

/// The three tables, each kept in ascending id order.
#[derive(Debug)]
pub(crate) struct Tables {
    seed: u64,
    pub(crate) employees: Vec<(i64, Value)>,
    pub(crate) customers: Vec<(i64, Value)>,
    pub(crate) group_chats: Vec<(i64, Value)>,
    /// Employees inserted so far, so each insertion generates fresh people.
    inserted: u64,
}

/// Ascending ids from `first` with small random gaps; the last id of a table
/// with at least two items is above 2^53, so 64-bit exactness is exercised.
fn ids(rng: &mut Rng, first: i64, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    let mut id = first;
    for _ in 0..n {
        out.push(id);
        id += 1 + rng.below(3) as i64;
    }
    if n >= 2
        && let Some(last) = out.last_mut()
    {
        *last = ABOVE_2_POW_53;
    }
    out
}

impl Tables {
    pub(crate) fn generate(
        seed: u64,
        employees: usize,
        customers: usize,
        group_chats: usize,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let employees: Vec<(i64, Value)> = ids(&mut rng, 1_473_001, employees)
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, employee(seed, i as u64, id)))
            .collect();
        let customers = ids(&mut rng, 100, customers)
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, customer(seed, i as u64, id)))
            .collect();
        let group_chats = ids(&mut rng, 132, group_chats)
            .into_iter()
            .enumerate()
            .map(|(i, id)| {
                let owner = (!employees.is_empty()).then(|| {
                    let (eid, e) = &employees[i % employees.len()];
                    (*eid, e["name"].as_str().unwrap_or_default().to_string())
                });
                (id, group_chat(seed, i as u64, id, owner))
            })
            .collect();
        Self {
            seed,
            employees,
            customers,
            group_chats,
            inserted: 0,
        }
    }

    /// Adds `n` employees before the first one (ids below it, still
    /// ascending); fewer when the ids below the first run out, so ids stay
    /// unique and positive.
    pub(crate) fn insert_employees(&mut self, n: usize) {
        let first = self.employees.first().map_or(1_473_001, |(id, _)| *id);
        let n = n.min(usize::try_from(first - 1).unwrap_or(0));
        let fresh: Vec<(i64, Value)> = (0..n)
            .map(|k| {
                let id = first - (n - k) as i64;
                let index = 1_000_000 + self.inserted + k as u64;
                (id, employee(self.seed, index, id))
            })
            .collect();
        self.inserted += n as u64;
        self.employees.splice(0..0, fresh);
    }

    /// Removes the first `n` employees.
    pub(crate) fn remove_employees(&mut self, n: usize) {
        let n = n.min(self.employees.len());
        self.employees.drain(..n);
    }
}

/// Items after `start_id` (exclusive), at most `page_size`, and the cursor of
/// the next page (the last id returned, or `None` when nothing follows).
pub(crate) fn cursor_page(
    table: &[(i64, Value)],
    start_id: i64,
    page_size: usize,
) -> (Vec<Value>, Option<i64>) {
    let from = table.partition_point(|(id, _)| *id <= start_id);
    let to = from.saturating_add(page_size).min(table.len());
    let items: Vec<Value> = table[from..to].iter().map(|(_, v)| v.clone()).collect();
    let next = if to < table.len() {
        table
            .get(to.wrapping_sub(1))
            .filter(|_| to > from)
            .map(|(id, _)| *id)
    } else {
        None
    };
    (items, next)
}

/// Page `page_num` (from 1) of `page_size` items, with `pages` and `total`.
pub(crate) fn number_page(
    table: &[(i64, Value)],
    page_num: u64,
    page_size: u64,
) -> (Vec<Value>, u64, u64) {
    let total = table.len() as u64;
    let pages = total.div_ceil(page_size.max(1));
    let from = page_num
        .saturating_sub(1)
        .saturating_mul(page_size)
        .min(total) as usize;
    let to = (from as u64).saturating_add(page_size).min(total) as usize;
    let items = table[from..to].iter().map(|(_, v)| v.clone()).collect();
    (items, pages, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_deterministic_ascending_and_reach_past_2_pow_53() {
        let a = Tables::generate(7, 30, 20, 10);
        let b = Tables::generate(7, 30, 20, 10);
        assert_eq!(a.employees, b.employees);
        for table in [&a.employees, &a.customers, &a.group_chats] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(table.last().map(|(id, _)| *id), Some(ABOVE_2_POW_53));
        }
        assert_eq!(a.employees[0].1["status"], json!(6));
        assert_eq!(a.employees[1].1["phone"], json!("013577770002"));
        assert_eq!(a.customers[1].1["phone"], json!("013577770002"));
    }

    #[test]
    fn cursor_pages_cover_every_item_once() {
        let t = Tables::generate(1, 0, 25, 0);
        let (mut seen, mut cursor) = (Vec::new(), 0);
        for _ in 0..100 {
            let (items, next) = cursor_page(&t.customers, cursor, 10);
            seen.extend(items.iter().map(|v| v["id"].as_i64().unwrap_or(-1)));
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        let all: Vec<i64> = t.customers.iter().map(|(id, _)| *id).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn inserting_at_the_front_keeps_ids_ascending() {
        let mut t = Tables::generate(1, 10, 0, 0);
        t.insert_employees(3);
        assert_eq!(t.employees.len(), 13);
        assert!(t.employees.windows(2).all(|w| w[0].0 < w[1].0));
        t.remove_employees(5);
        assert_eq!(t.employees.len(), 8);
        t.remove_employees(100);
        t.insert_employees(2);
        assert_eq!(
            t.employees.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [1_473_001 - 2, 1_473_001 - 1]
        );
    }
}
