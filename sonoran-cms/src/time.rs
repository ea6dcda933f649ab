//! Saturating time arithmetic: every duration a caller can configure (up to
//! `Duration::MAX`) gives an instant, never an overflow panic.

use std::time::Duration;

use tokio::time::Instant;

/// How far ahead "never" lies: an instant this far away is as good as no
/// deadline, and adding it to any instant of a running program cannot overflow.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `start + duration`, or [`FAR_FUTURE`] from `start` when the sum would not fit.
pub(crate) fn after(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration.min(FAR_FUTURE))
        // Only a clock near its own end gets here: a year still means "never".
        .or_else(|| start.checked_add(Duration::from_secs(365 * 24 * 60 * 60)))
        .unwrap_or(start)
}

/// Whole milliseconds of `duration`, at most [`FAR_FUTURE`]'s (which Redis's
/// scripts and commands take as plain integers).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.min(FAR_FUTURE).as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_durations_saturate() {
        let now = Instant::now();
        assert_eq!(after(now, Duration::MAX), now + FAR_FUTURE);
        assert_eq!(
            after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert_eq!(millis(Duration::MAX), millis(FAR_FUTURE));
        assert_eq!(millis(Duration::from_millis(1_500)), 1_500);
    }
}
