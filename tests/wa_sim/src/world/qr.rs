//! QR login: attempts shown on pages, their rotation and idling, and linking a device by scanning one.

use super::*;

impl World {
    /// A page without credentials starts showing QR codes.
    pub fn start_attempt(&mut self, now: Instant) -> QrInfo {
        if self.attempts.len() >= MAX_ATTEMPTS {
            self.attempts.remove(0);
        }
        let attempt = Attempt {
            id: random_id("att-"),
            qr: random_qr(),
            shown_at: now,
            codes_shown: 1,
            last_poll: now,
            state: AttemptState::Waiting,
        };
        let info = QrInfo { attempt: attempt.id.clone(), qr: attempt.qr.clone(), codes_shown: 1 };
        self.attempts.push(attempt);
        info
    }

    pub(super) fn refresh_attempt(attempt: &mut Attempt, now: Instant, rotation: Duration, before_idle: u32) {
        if !matches!(attempt.state, AttemptState::Waiting) {
            return;
        }
        while now.saturating_duration_since(attempt.shown_at) >= rotation {
            if attempt.codes_shown >= before_idle {
                attempt.state = AttemptState::Idle;
                return;
            }
            attempt.qr = random_qr();
            attempt.shown_at += rotation;
            attempt.codes_shown += 1;
        }
    }

    /// The page polls its attempt: rotation, idleness or the credentials of a scan.
    pub fn poll_attempt(&mut self, id: &str, now: Instant) -> AttemptView {
        let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
        let Some(attempt) = self.attempts.iter_mut().find(|a| a.id == id) else {
            return AttemptView::Unknown;
        };
        attempt.last_poll = now;
        Self::refresh_attempt(attempt, now, rotation, before_idle);
        match &attempt.state {
            AttemptState::Waiting => AttemptView::Waiting { qr: attempt.qr.clone() },
            AttemptState::Idle => AttemptView::Idle,
            AttemptState::Linked(credential) => AttemptView::Linked { credential: credential.clone() },
        }
    }

    /// The QR code on screen now: the newest attempt whose page still polls and whose QR is scannable.
    pub fn current_qr(&mut self, now: Instant) -> Option<QrInfo> {
        let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
        self.attempts.iter_mut().rev().find_map(|attempt| {
            Self::refresh_attempt(attempt, now, rotation, before_idle);
            let live = now.saturating_duration_since(attempt.last_poll) <= ATTEMPT_LIVENESS;
            (live && matches!(attempt.state, AttemptState::Waiting)).then(|| QrInfo {
                attempt: attempt.id.clone(),
                qr: attempt.qr.clone(),
                codes_shown: attempt.codes_shown,
            })
        })
    }

    /// A phone scans `qr` (or, with `None`, whatever QR is on screen) and links a device for `account`.
    pub fn link(&mut self, account: &str, qr: Option<&str>, now: Instant) -> Result<LinkedDevice, SimError> {
        let account = account.trim();
        if account.is_empty() {
            return Err(SimError::BadRequest("account is empty".to_owned()));
        }
        let target = match qr {
            None => self.current_qr(now).ok_or(SimError::NoQrShown)?.attempt,
            Some(payload) => {
                let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
                let attempt =
                    self.attempts.iter_mut().find(|a| a.qr == payload).ok_or(SimError::UnknownQr)?;
                Self::refresh_attempt(attempt, now, rotation, before_idle);
                match attempt.state {
                    AttemptState::Waiting if attempt.qr == payload => attempt.id.clone(),
                    AttemptState::Idle => return Err(SimError::QrIdle),
                    _ => return Err(SimError::UnknownQr),
                }
            }
        };
        let device_id = random_id("dev-");
        let generation =
            Generation { key_a: random_key_half(), key_b: random_key_half(), state: GenState::Valid };
        let credential = Credential {
            device: device_id.clone(),
            account: account.to_owned(),
            generation: 1,
            key_a: generation.key_a.clone(),
            key_b: generation.key_b.clone(),
        };
        self.devices.insert(
            device_id.clone(),
            Device {
                id: device_id.clone(),
                account: account.to_owned(),
                generations: BTreeMap::from([(1, generation)]),
                latest: 1,
                revoked: false,
                expired: false,
                last_used: self.clock,
                holder: Holder::Nobody,
            },
        );
        let attempt = self.attempts.iter_mut().find(|a| a.id == target).ok_or(SimError::UnknownQr)?;
        let scanned = attempt.qr.clone();
        attempt.state = AttemptState::Linked(credential);
        Ok(LinkedDevice { device: device_id, account: account.to_owned(), qr: scanned })
    }
}
