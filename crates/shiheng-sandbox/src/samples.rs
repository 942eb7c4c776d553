//! Hand-tuned data for the item schemas of the platform's published
//! samples, an optional refinement of the generic generator (`generate`):
//! Chinese names, an undocumented status, phones as numbers or strings,
//! flags as booleans or 0/1, consent-gated fields often null, epoch
//! milliseconds. Keyed by the item schema's name as the operation table
//! gives it; a schema not listed here gets generic data, and a field the
//! spec adds to a listed schema is filled by the generic generator.

use serde_json::{Value, json};

use super::rng::{Rng, mix};

/// Sample-like data for one item schema.
pub(crate) struct Refinement {
    /// Items generated when the configuration does not say.
    pub(crate) default_count: usize,
    /// The smallest generated id.
    pub(crate) first_id: i64,
    /// One item: `index` counts from 0 (fresh items inserted mid-listing
    /// get indices from 1,000,000), `id` is the id the table chose.
    pub(crate) item: fn(seed: u64, index: u64, id: i64) -> Value,
}

/// The refinement of the item schema `name`, when there is one.
pub(crate) fn refinement(item_schema: &str) -> Option<&'static Refinement> {
    REFINEMENTS
        .iter()
        .find(|(name, _)| *name == item_schema)
        .map(|(_, r)| r)
}

const REFINEMENTS: &[(&str, Refinement)] = &[
    (
        "Employee",
        Refinement {
            default_count: 464,
            first_id: 1_473_001,
            item: employee,
        },
    ),
    (
        "Customer",
        Refinement {
            default_count: 250,
            first_id: 100,
            item: customer,
        },
    ),
    (
        "GroupChat",
        Refinement {
            default_count: 120,
            first_id: 132,
            item: group_chat,
        },
    ),
];

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
fn corp_id(seed: u64) -> String {
    format!("ww{:016x}", mix(seed ^ 0xC0_2B))
}

/// One employee as the platform sends it.
fn employee(seed: u64, index: u64, id: i64) -> Value {
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

/// The second employee's and customer's phone: digit text with a leading
/// zero, which a client that reads phones as numbers turns into another
/// number. Fixed, so every client's check can look for it.
fn leading_zero_phone(index: u64) -> Option<Value> {
    (index == 1).then(|| json!("013577770002"))
}

/// One customer (external contact) as the platform sends it.
fn customer(seed: u64, index: u64, id: i64) -> Value {
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

/// One customer group chat as the platform sends it. Its owner is an
/// employee-like id and name (the tables are independent, so it need not
/// be an employee the sandbox lists).
fn group_chat(seed: u64, index: u64, id: i64) -> Value {
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
    let employee_id = json!(1_473_001 + rng.below(1000));
    let owner_name = if rng.chance(0.7) {
        json!(person(&mut rng).0)
    } else {
        Value::Null
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
