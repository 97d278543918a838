//! A stack wired to its own WhatsApp Web simulator, and linking an account to it the way
//! `wacamp setup` does (real Chromium scans the simulator's QR code).

use crate::stack::{Stack, deploy};
use session_store::{GenerationState, ProfileKey, ProfileStore, S3ProfileStore, StoreConfig};
use std::time::Duration;
use wa_sim::{SimConfig, SimHandle, Simulator};

/// The parameters of the end-to-end sending stacks: invocations long enough for a batch, no
/// pacing, a redrive limit no test reaches by accident, claims that lapse quickly.
pub const SENDING: &[&str] =
    &["SenderTimeoutSeconds=120", "MaxReceiveCount=20", "PaceMinMs=0", "PaceMaxMs=0", "ClaimLeaseSeconds=15"];

/// A deployed stack whose sender drives this simulator.
pub struct World {
    /// The stack's outputs.
    pub stack: Stack,
    /// The simulator its `WhatsAppUrl` points at.
    pub sim: SimHandle,
}

impl World {
    /// Starts a simulator with `config` and deploys `name` against it with the extra parameters.
    pub fn start(name: &str, config: SimConfig, params: &[&str]) -> Self {
        let sim = Simulator::start(config).expect("simulator starts");
        let stack = deploy_against(&sim, name, params);
        Self { stack, sim }
    }

    /// [`World::start`] with every AWS call of the stack's functions going through a new AWS
    /// fault proxy in front of the local AWS (its plan starts strict: limits, no faults).
    pub fn start_behind_proxy(name: &str, config: SimConfig, params: &[&str]) -> ProxiedWorld {
        let proxy =
            aws_proxy::FaultProxy::start(&crate::aws::endpoint()).expect("the AWS fault proxy starts");
        let endpoint = format!("AwsEndpointOverride={}", proxy.url());
        let mut all: Vec<&str> = params.to_vec();
        all.push(&endpoint);
        ProxiedWorld { world: Self::start(name, config, &all), proxy }
    }

    /// Another stack (e.g. with other sender settings) against the same simulator.
    pub fn variant(&self, name: &str, params: &[&str]) -> Stack {
        deploy_against(&self.sim, name, params)
    }
}

/// A [`World`] whose stack calls AWS through the fault proxy, and that proxy.
pub struct ProxiedWorld {
    /// The stack and its simulator.
    pub world: World,
    /// The proxy every AWS call of the stack's functions goes through.
    pub proxy: aws_proxy::ProxyHandle,
}

fn deploy_against(sim: &SimHandle, name: &str, params: &[&str]) -> Stack {
    let url = format!("WhatsAppUrl={}/", sim.base_url());
    let mut all: Vec<&str> = params.to_vec();
    all.push(&url);
    deploy(name, &all)
}

/// The session store of `stack`, as the tests reach it (no profile key).
pub async fn profiles(stack: &Stack) -> S3ProfileStore {
    sealed_profiles(stack, None).await
}

/// The session store of `stack` sealing and opening with `key`.
pub async fn sealed_profiles(stack: &Stack, key: Option<ProfileKey>) -> S3ProfileStore {
    let mut config = StoreConfig::new(&stack.profile_bucket_name, &stack.table_name);
    config.key = key;
    S3ProfileStore::new(crate::aws::s3().await, crate::aws::dynamo().await, config)
}

/// What `wacamp setup` does: a fresh Chromium shows the QR code, the phone scans it, the
/// profile is closed with a flush and stored as a new generation of `stack`.
pub async fn link_account(sim: &'static SimHandle, stack: &Stack, account: &str) {
    link_account_sealed(sim, stack, account, None).await;
}

/// [`link_account`] with the generation sealed by `key`, as `wacamp setup` does when the profile
/// key is configured.
pub async fn link_account_sealed(
    sim: &'static SimHandle,
    stack: &Stack,
    account: &str,
    key: Option<ProfileKey>,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile");
    let base = format!("{}/", sim.base_url());
    let account_owned = account.to_owned();
    let profile_for_browser = profile.clone();
    tokio::task::spawn_blocking(move || {
        let mut config = wa_driver::DriverConfig::new(&profile_for_browser);
        config.wa_url = base;
        let driver =
            wa_driver::WaDriver::launch(config).expect("Chromium starts (apt-get install -y chromium)");
        assert_eq!(driver.open(false).expect("WhatsApp Web opens"), wa_driver::Screen::NeedsQr);
        let state = driver
            .link_with_qr(&mut |qr| drop(sim.link_qr(qr, &account_owned)), Duration::from_secs(60))
            .expect("link");
        assert_eq!(state, wa_driver::Screen::Ready);
        driver.close().expect("close with flush");
    })
    .await
    .expect("the linking task ends");
    let account = domain::AccountId::parse(account).expect("a valid account id");
    sealed_profiles(stack, key)
        .await
        .backup(&account, &profile, GenerationState::Ready)
        .await
        .expect("backup");
}
