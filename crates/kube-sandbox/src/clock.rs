//! The sandbox's one clock: wall-clock timestamps for objects and simulated durations scaled
//! by `SandboxConfig::speed`. Built on tokio's clock, so tests under `tokio::time::pause()` run instantly.

use std::time::Duration;
use tokio::time::Instant;

/// Cheap to copy; every controller and the kubelet share one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start_instant: Instant,
    start_wall: jiff::Timestamp,
    /// Simulated seconds per real second; `f64::INFINITY` makes every simulated wait instant.
    speed: f64,
}

impl Clock {
    pub(crate) fn new(speed: f64) -> Self {
        Clock {
            start_instant: Instant::now(),
            start_wall: jiff::Timestamp::now(),
            speed: if speed > 0.0 { speed } else { 1.0 },
        }
    }

    /// The current time; advances with tokio's clock (so paused tests stay deterministic).
    pub(crate) fn now(&self) -> jiff::Timestamp {
        let elapsed = Instant::now().saturating_duration_since(self.start_instant);
        let span = jiff::SignedDuration::try_from(elapsed).unwrap_or(jiff::SignedDuration::ZERO);
        self.start_wall.checked_add(span).unwrap_or(self.start_wall)
    }

    /// `2026-11-24T22:00:00Z`, the `metav1.Time` wire format (seconds).
    pub(crate) fn now_rfc3339(&self) -> String {
        format_time(self.now())
    }

    /// `2026-11-24T22:00:00.123456Z`, the `metav1.MicroTime` wire format.
    pub(crate) fn now_micro(&self) -> String {
        let t = self.now();
        let secs = t.as_second();
        let micros = t.subsec_microsecond();
        let base = format_time(jiff::Timestamp::from_second(secs).unwrap_or(t));
        format!("{}.{:06}Z", base.trim_end_matches('Z'), micros)
    }

    /// How long a simulated duration really takes at this speed.
    pub(crate) fn real(&self, simulated: Duration) -> Duration {
        if self.speed.is_infinite() {
            Duration::ZERO
        } else {
            simulated.div_f64(self.speed)
        }
    }

    /// How long a back-off (image pull, crash loop) really waits: as [`Clock::real`], but an
    /// infinitely fast clock still waits a thousandth of the simulated time, so retries never spin.
    pub(crate) fn backoff(&self, simulated: Duration) -> Duration {
        if self.speed.is_infinite() {
            simulated / 1000
        } else {
            self.real(simulated)
        }
    }

    /// Wait for a simulated duration.
    pub(crate) async fn sleep(&self, simulated: Duration) {
        let d = self.real(simulated);
        if d.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(d).await;
        }
    }
}

/// RFC 3339 in UTC with second precision, as `metav1.Time` marshals.
pub(crate) fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parse a `metav1.Time` or `MicroTime`.
pub(crate) fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_time_moves_the_clock() {
        let c = Clock::new(1.0);
        let a = c.now();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let b = c.now();
        assert_eq!((b - a).get_seconds(), 5);
        assert!(c.now_rfc3339().ends_with('Z'));
        assert_eq!(c.now_rfc3339().len(), 20);
        assert_eq!(c.now_micro().len(), 27);
    }

    #[test]
    fn speed_scales_waits() {
        let c = Clock::new(4.0);
        assert_eq!(c.real(Duration::from_secs(8)), Duration::from_secs(2));
        let fast = Clock::new(f64::INFINITY);
        assert_eq!(fast.real(Duration::from_secs(8)), Duration::ZERO);
    }
}
