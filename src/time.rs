//! Time: the [`Timestamp`] every change carries, and the injectable
//! [`Clock`] that supplies it when the caller does not.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch, UTC.
///
/// Displays as RFC 3339 (`2026-11-24T10:09:32.000Z`).
///
/// # Example
///
/// ```
/// use optout::model::Timestamp;
///
/// let t = Timestamp::from_unix_secs(1_764_000_000);
/// assert_eq!(t.to_string(), "2025-11-24T16:00:00.000Z");
/// assert_eq!(t.unix_millis(), 1_764_000_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from milliseconds since the Unix epoch.
    ///
    /// # Example
    ///
    /// ```
    /// let t = optout::model::Timestamp::from_unix_millis(1_500);
    /// assert_eq!(t.unix_millis(), 1_500);
    /// ```
    pub const fn from_unix_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    /// A timestamp from seconds since the Unix epoch (saturating).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::model::Timestamp::from_unix_secs(2).unix_millis(), 2_000);
    /// ```
    pub const fn from_unix_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::model::Timestamp::EPOCH.unix_millis(), 0);
    /// ```
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Reads the system clock. The store never calls this behind your back:
    /// it asks its [`Clock`], which you can replace.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::model::Timestamp::now() > optout::model::Timestamp::EPOCH);
    /// ```
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    /// The timestamp `days` days later (earlier when negative), saturating.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::model::Timestamp;
    ///
    /// let t = Timestamp::from_unix_secs(0).add_days(1);
    /// assert_eq!(t.to_string(), "1970-01-02T00:00:00.000Z");
    /// ```
    pub const fn add_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(86_400_000)))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        let millis = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match t.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp(millis(after)),
            Err(before) => Timestamp(-millis(before.duration())),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (min, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
    }
}

/// The error for text that is not a timestamp.
///
/// # Example
///
/// ```
/// assert!("yesterday".parse::<optout::model::Timestamp>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a timestamp (RFC 3339, a date, or Unix seconds)")]
pub struct InvalidTimestamp(pub String);

impl std::str::FromStr for Timestamp {
    type Err = InvalidTimestamp;

    /// Parses RFC 3339 (`2026-11-24T10:09:32Z`, with optional fractional
    /// seconds and a `Z` or `±HH:MM` offset; a space may replace the `T`),
    /// a date (`2026-11-24`, midnight UTC), or Unix seconds (`1764000000`).
    fn from_str(s: &str) -> Result<Timestamp, InvalidTimestamp> {
        let bad = || InvalidTimestamp(s.to_owned());
        let t = s.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<i64>()
                .map(Timestamp::from_unix_secs)
                .map_err(|_| bad());
        }
        let num = |a: usize, b: usize| -> Result<i64, InvalidTimestamp> {
            let part = t.get(a..b).ok_or_else(bad)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let sep = |i: usize, c: u8| t.as_bytes().get(i) == Some(&c);
        if !(sep(4, b'-') && sep(7, b'-')) {
            return Err(bad());
        }
        let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
            return Err(bad());
        }
        let days = days_from_civil(year, month, day);
        if t.len() == 10 {
            return Ok(Timestamp(days * 86_400_000));
        }
        if !(sep(10, b'T') || sep(10, b't') || sep(10, b' ')) || !sep(13, b':') || !sep(16, b':') {
            return Err(bad());
        }
        let (h, m, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if h > 23 || m > 59 || sec > 60 {
            return Err(bad());
        }
        let mut rest = t.get(19..).ok_or_else(bad)?;
        let mut millis = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let text = frac.get(..digits.min(3)).ok_or_else(bad)?;
            millis = text.parse::<i64>().map_err(|_| bad())? * 10_i64.pow(3 - text.len() as u32);
            rest = frac.get(digits..).ok_or_else(bad)?;
        }
        let offset_minutes = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad()),
                };
                let o = rest.get(1..).ok_or_else(bad)?;
                if o.len() != 5 || o.as_bytes().get(2) != Some(&b':') {
                    return Err(bad());
                }
                let oh: i64 = o.get(..2).and_then(|x| x.parse().ok()).ok_or_else(bad)?;
                let om: i64 = o.get(3..).and_then(|x| x.parse().ok()).ok_or_else(bad)?;
                sign * (oh * 60 + om)
            }
        };
        let secs = days * 86_400 + h * 3600 + m * 60 + sec - offset_minutes * 60;
        Ok(Timestamp(secs * 1000 + millis))
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A proleptic Gregorian date to days since 1970-01-01 (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Supplies the time of changes recorded without an explicit time.
///
/// Any `Fn() -> Timestamp + Send + Sync` is a clock, so tests can pin time.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicI64, Ordering};
/// use optout::model::{Clock, Timestamp};
///
/// let now = Arc::new(AtomicI64::new(1_000));
/// let clock = { let now = now.clone(); move || Timestamp::from_unix_millis(now.load(Ordering::SeqCst)) };
/// assert_eq!(clock.now().unix_millis(), 1_000);
/// now.store(2_000, Ordering::SeqCst);
/// assert_eq!(clock.now().unix_millis(), 2_000);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

impl<F: Fn() -> Timestamp + Send + Sync> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

/// The system clock, the default.
///
/// # Example
///
/// ```
/// use optout::model::{Clock, SystemClock, Timestamp};
///
/// assert!(SystemClock.now() > Timestamp::EPOCH);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_displays_and_common_forms() {
        for t in [
            0i64,
            951_782_400_123,
            -1,
            1_764_000_000_000,
            4_102_444_800_000,
        ] {
            let ts = Timestamp::from_unix_millis(t);
            assert_eq!(ts.to_string().parse::<Timestamp>(), Ok(ts));
        }
        let p = |s: &str| s.parse::<Timestamp>().map(Timestamp::unix_millis);
        assert_eq!(p("2025-11-24"), Ok(1_763_942_400_000));
        assert_eq!(p("2025-11-24 16:00:00Z"), Ok(1_764_000_000_000));
        assert_eq!(p("2025-11-24T18:00:00+02:00"), Ok(1_764_000_000_000));
        assert_eq!(p("1764000000"), Ok(1_764_000_000_000));
        assert_eq!(p("2025-11-24T16:00:00.5Z"), Ok(1_764_000_000_500));
        for bad in [
            "",
            "2025-13-01",
            "2025-02-30",
            "2025-11-24T25:00:00Z",
            "2025-11-24T16:00:00",
            "x",
            "2025-11-24T16:00:00+2",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_rfc3339() {
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::from_unix_millis(951_782_400_123).to_string(),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_unix_secs(4_102_444_800).to_string(),
            "2100-01-01T00:00:00.000Z"
        );
    }
}
