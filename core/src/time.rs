//! RFC 3339 timestamps, without a date-time dependency: now from the system clock, and
//! strict parsing into a UTC [`Timestamp`] so that times with offsets and fractions compare
//! correctly (`2026-01-01T08:00:00+08:00` is `2026-01-01T00:00:00Z`; text order would say
//! otherwise).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An instant in UTC: seconds since the Unix epoch and nanoseconds within the second.
/// Ordering is time order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses an RFC 3339 date-time (section 5.6):
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, strictly: a month 01–12, a day that
    /// exists in that month (29 February in leap years only), hours 00–23, minutes 00–59,
    /// seconds 00–59 or 60 (a leap second, counted as the first second of the next minute),
    /// an offset up to ±23:59. `t` and `z` may be lowercase, as the RFC's note allows.
    /// Digits of a fraction beyond nanoseconds are checked and dropped. `None` otherwise.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(range)?;
            digits.iter().try_fold(0i64, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
            })
        };
        let sep = |i: usize, c: u8| b.get(i) == Some(&c);
        let shape = sep(4, b'-')
            && sep(7, b'-')
            && matches!(b[10], b'T' | b't')
            && sep(13, b':')
            && sep(16, b':');
        if !shape {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if b[i] == b'.' {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            for _ in (i - start)..9 {
                nanos *= 10;
            }
        }
        let offset = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            &sign @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b':') => {
                let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = oh * 3600 + om * 60;
                if sign == b'-' { -off } else { off }
            }
            _ => return None,
        };
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
            - offset;
        Some(Self { secs, nanos })
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }
}

/// Whether RFC 3339 time `a` is a later instant than `b`; false when either is not an RFC 3339
/// date-time (so an unreadable expiry counts as expired).
pub fn is_later(a: &str, b: &str) -> bool {
    match (Timestamp::parse_rfc3339(a), Timestamp::parse_rfc3339(b)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

/// Whether `text` is an RFC 3339 date-time, as [`Timestamp::parse_rfc3339`] reads them.
pub fn is_rfc3339(text: &str) -> bool {
    Timestamp::parse_rfc3339(text).is_some()
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_strict() {
        for ok in [
            "2026-01-01T00:00:00Z",
            "2024-02-29T12:30:45Z",
            "2000-02-29T00:00:00Z",
            "2026-12-31T23:59:60Z",
            "2026-06-30T23:59:59.123456789+02:00",
            "2026-06-30T23:59:59.1234567891234-00:30",
            "2026-06-30t23:59:59z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+23:59",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:61Z",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+01:60",
            "2026-01-01T00:00:00ZZ",
            "2026-1-01T00:00:00Z",
            "2026-01-01",
            "+2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z ",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_compare_as_instants() {
        let t = |s: &str| Timestamp::parse_rfc3339(s).unwrap();
        assert_eq!(t("2026-01-01T08:00:00+08:00"), t("2026-01-01T00:00:00Z"));
        assert_eq!(t("2025-12-31T19:00:00-05:00"), t("2026-01-01T00:00:00z"));
        // Text order says the opposite of time order here.
        assert!(t("2026-01-01T09:00:00+08:00") < t("2026-01-01T02:00:00Z"));
        assert!(t("2026-01-01T00:00:00.5Z") > t("2026-01-01T00:00:00Z"));
        assert!(t("2026-01-01T00:00:00.000000001Z") > t("2026-01-01T00:00:00Z"));
        assert_eq!(t("2026-12-31T23:59:60Z"), t("2027-01-01T00:00:00Z"));
        // Consent expiry against now (policies::eval): a later instant, whatever the text.
        assert!(is_later(
            "2026-01-01T09:00:00+00:00",
            "2026-01-01T10:00:00+08:00"
        ));
        assert!(!is_later(
            "2026-01-01T10:00:00+08:00",
            "2026-01-01T09:00:00Z"
        ));
        assert!(
            !is_later("not a time", "2026-01-01T00:00:00Z"),
            "unreadable: expired"
        );
        assert_eq!(t("1970-01-01T00:00:00Z").unix_seconds(), 0);
        assert_eq!(t("2000-02-29T00:00:00Z").unix_seconds(), 951_782_400);
        assert_eq!(t("1969-12-31T23:59:59Z").unix_seconds(), -1);
        for secs in [0u64, 951_782_400, 1_798_761_599, 4_102_444_800] {
            assert_eq!(t(&rfc3339(secs)).unix_seconds(), secs as i64);
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
    }
}
