//! A newly linked number's warm-up: the most it may send on each day since the link (day 0 is
//! the first 24 hours), for example `20,50,100,200`. Past the last step the ramp no longer
//! applies (the deployment's own daily cap, if any, still does); an account whose link time is
//! not known (linked before it was recorded) is taken to be warm.

/// The most steps a ramp may have (days).
pub const MAX_STEPS: usize = 90;
/// The largest cap one step may name.
pub const MAX_STEP: u32 = 100_000;

const DAY: i64 = 86_400;

/// Why a ramp is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarmUpError {
    /// A step that is not a whole number from 1 to [`MAX_STEP`].
    #[error("step {0} ('{1}') must be a whole number from 1 to {MAX_STEP}")]
    Step(usize, String),
    /// More than [`MAX_STEPS`] steps.
    #[error("{0} steps; at most {MAX_STEPS}")]
    TooLong(usize),
}

/// A daily ramp; the default (no steps) applies to nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarmUp {
    steps: Vec<u32>,
}

/// Where an account stands on the ramp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RampDay {
    /// Days since the link (0: the first 24 hours).
    pub day: u32,
    /// Its sends allowed today.
    pub cap: u32,
    /// When the ramp stops applying (Unix seconds).
    pub ends_at: i64,
}

impl WarmUp {
    /// Parses `20,50,100` (blanks around steps allowed); an empty text is no ramp.
    pub fn parse(raw: &str) -> Result<Self, WarmUpError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        let steps = raw
            .split(',')
            .enumerate()
            .map(|(i, s)| {
                let s = s.trim();
                s.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_STEP).contains(n))
                    .ok_or_else(|| WarmUpError::Step(i + 1, s.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if steps.len() > MAX_STEPS {
            return Err(WarmUpError::TooLong(steps.len()));
        }
        Ok(Self { steps })
    }

    /// Whether it applies to nobody (no steps).
    pub fn is_off(&self) -> bool {
        self.steps.is_empty()
    }

    /// Its steps.
    pub fn steps(&self) -> &[u32] {
        &self.steps
    }

    /// Where an account linked at Unix second `linked_at` stands at `now`; `None` when it is
    /// past the ramp or its link time is not known.
    pub fn on(&self, linked_at: Option<i64>, now: i64) -> Option<RampDay> {
        let linked_at = linked_at?;
        let day = usize::try_from((now - linked_at).max(0) / DAY).unwrap_or(usize::MAX);
        let cap = *self.steps.get(day)?;
        let len = i64::try_from(self.steps.len()).unwrap_or(i64::MAX);
        Some(RampDay { day: u32::try_from(day).unwrap_or(u32::MAX), cap, ends_at: linked_at + len * DAY })
    }
}

impl std::str::FromStr for WarmUp {
    type Err = WarmUpError;
    fn from_str(s: &str) -> Result<Self, WarmUpError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_day_since_the_link_has_its_step_and_past_the_last_the_ramp_is_over() {
        let ramp = WarmUp::parse("20, 50,100").unwrap();
        let linked = 1_800_000_000;
        assert_eq!(
            ramp.on(Some(linked), linked + 10),
            Some(RampDay { day: 0, cap: 20, ends_at: linked + 3 * DAY })
        );
        assert_eq!(ramp.on(Some(linked), linked + DAY - 1).map(|d| d.cap), Some(20));
        assert_eq!(ramp.on(Some(linked), linked + DAY).map(|d| d.cap), Some(50));
        assert_eq!(ramp.on(Some(linked), linked + 2 * DAY + 5).map(|d| (d.day, d.cap)), Some((2, 100)));
        assert_eq!(ramp.on(Some(linked), linked + 3 * DAY), None, "warm");
        assert_eq!(ramp.on(None, linked), None, "linked before link times were kept: warm");
        assert_eq!(ramp.on(Some(linked), linked - 60).map(|d| d.day), Some(0), "a clock behind the link");
    }

    #[test]
    fn no_text_is_no_ramp_and_a_bad_step_is_named() {
        let off = WarmUp::parse(" ").unwrap();
        assert!(off.is_off());
        assert_eq!(off.on(Some(0), 10), None);
        assert_eq!(WarmUp::parse("20,x,50"), Err(WarmUpError::Step(2, "x".into())));
        assert_eq!(WarmUp::parse("20,0"), Err(WarmUpError::Step(2, "0".into())));
        assert_eq!(WarmUp::parse("20,,50"), Err(WarmUpError::Step(2, String::new())));
        assert_eq!(WarmUp::parse(&vec!["5"; 91].join(",")), Err(WarmUpError::TooLong(91)));
    }
}
