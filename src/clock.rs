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
/// use optout::Timestamp;
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
    /// let t = optout::Timestamp::from_unix_millis(1_500);
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
    /// assert_eq!(optout::Timestamp::from_unix_secs(2).unix_millis(), 2_000);
    /// ```
    pub const fn from_unix_secs(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Timestamp::EPOCH.unix_millis(), 0);
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
    /// assert!(optout::Timestamp::now() > optout::Timestamp::EPOCH);
    /// ```
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    /// The timestamp `days` days later (earlier when negative), saturating.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Timestamp;
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
/// use optout::{Clock, Timestamp};
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
/// use optout::{Clock, SystemClock, Timestamp};
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
