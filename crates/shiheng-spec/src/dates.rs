//! Calendar dates from day counts, for what the tooling writes: the date a
//! spec patch says a field was observed, the CLI's UTC times. One
//! implementation of Howard Hinnant's `civil_from_days`, exact for every
//! `i64` day count whose year fits an `i64`.

/// Days since 1970-01-01 as a proleptic Gregorian (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub fn ymd(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(20_424), "2025-12-02");
        assert_eq!(ymd(-1), "1969-12-31");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
