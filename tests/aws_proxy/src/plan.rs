//! What the proxy does to the calls it sees: the faults it injects (which kind, on which
//! operations, how often, how many at most) and the AWS limits it enforces.

use std::time::Duration;

/// A fault AWS produces under stress, in its own wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// DynamoDB `TransactWriteItems` cancelled with a `TransactionConflict` reason (another
    /// transaction holds one of its items).
    TransactionConflict,
    /// DynamoDB `ProvisionedThroughputExceededException` (400).
    ProvisionedThroughputExceeded,
    /// DynamoDB `ThrottlingException` (400, on-demand tables).
    Throttling,
    /// DynamoDB `InternalServerError` (500).
    InternalServerError,
    /// SQS `RequestThrottled` (403).
    SqsThrottled,
    /// SQS `ServiceUnavailable` (503).
    SqsUnavailable,
    /// S3 `SlowDown` (503).
    S3SlowDown,
    /// The request reaches the emulator and is applied, but the reply never arrives (the
    /// connection closes): the SDK retries a write that already happened.
    ReplyLost,
}

impl FaultKind {
    /// Every kind, in order.
    pub const ALL: &'static [FaultKind] = &[
        Self::TransactionConflict,
        Self::ProvisionedThroughputExceeded,
        Self::Throttling,
        Self::InternalServerError,
        Self::SqsThrottled,
        Self::SqsUnavailable,
        Self::S3SlowDown,
        Self::ReplyLost,
    ];

    /// The service whose calls this kind can hit (`None`: any).
    pub fn service(self) -> Option<Service> {
        match self {
            Self::TransactionConflict
            | Self::ProvisionedThroughputExceeded
            | Self::Throttling
            | Self::InternalServerError => Some(Service::DynamoDb),
            Self::SqsThrottled | Self::SqsUnavailable => Some(Service::Sqs),
            Self::S3SlowDown => Some(Service::S3),
            Self::ReplyLost => None,
        }
    }
}

/// The AWS service of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// DynamoDB (JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<Op>`).
    DynamoDb,
    /// SQS (JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`).
    Sqs,
    /// S3 (REST).
    S3,
}

/// One way of failing calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// What the call gets.
    pub kind: FaultKind,
    /// The operations it applies to (`TransactWriteItems`, `SendMessageBatch`, `GetObject`...);
    /// empty: every operation of the kind's service.
    pub operations: Vec<String>,
    /// The share of matching calls that fail, 0.0 to 1.0.
    pub rate: f64,
    /// At most this many faults from this rule (`None`: no bound).
    pub budget: Option<u64>,
    /// Only calls whose table, queue or bucket name contains this text (`None`: any).
    pub resource: Option<String>,
}

impl Rule {
    /// `kind` on a share `rate` of its service's calls.
    pub fn new(kind: FaultKind, rate: f64) -> Self {
        Self { kind, operations: Vec::new(), rate, budget: None, resource: None }
    }

    /// Only on these operations.
    pub fn on(mut self, operations: &[&str]) -> Self {
        self.operations = operations.iter().map(|o| (*o).to_owned()).collect();
        self
    }

    /// At most `n` faults.
    pub fn at_most(mut self, n: u64) -> Self {
        self.budget = Some(n);
        self
    }

    /// Only on resources whose name contains `text`.
    pub fn resource(mut self, text: &str) -> Self {
        self.resource = Some(text.to_owned());
        self
    }
}

/// Holding matching calls for a while before they go on (to open the window of a race in a
/// test, or to make a slow AWS).
#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    /// The operations held; empty: every operation.
    pub operations: Vec<String>,
    /// How long each is held.
    pub duration: Duration,
    /// At most this many calls are held (`None`: no bound).
    pub budget: Option<u64>,
}

/// The AWS limits enforced on every call, whatever the rules say: the emulator is kinder.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// A DynamoDB item, in bytes (400 KB).
    pub max_item_bytes: usize,
    /// Items in one `TransactWriteItems` (100).
    pub max_transaction_items: usize,
    /// One `TransactWriteItems` request, in bytes (4 MB).
    pub max_transaction_bytes: usize,
    /// One SQS message, and one `SendMessageBatch` in total, in bytes (256 KB).
    pub max_message_bytes: usize,
    /// The longest total visibility of a received SQS message (12 hours from its receipt).
    pub max_visibility: Duration,
    /// How long before the proxy first sees a receipt handle its message is assumed to have been
    /// received (the emulator's event-source mapping receives behind the proxy's back): at least
    /// as long as the consumer may have held it, so the check is never kinder than AWS.
    pub assumed_receipt_age: Duration,
    /// Concurrent writes to one item conflict the way DynamoDB's transactions do.
    pub conflicts: bool,
    /// Added to every `TransactWriteItems`, so concurrent transactions overlap as on AWS
    /// (DynamoDB takes tens of milliseconds for one; the emulator far less).
    pub transaction_latency: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_item_bytes: 400 * 1024,
            max_transaction_items: 100,
            max_transaction_bytes: 4 * 1024 * 1024,
            max_message_bytes: 256 * 1024,
            max_visibility: Duration::from_secs(12 * 3600),
            assumed_receipt_age: Duration::from_secs(15 * 60),
            conflicts: true,
            transaction_latency: Duration::from_millis(15),
        }
    }
}

/// Everything the proxy does, replaced as a whole by `ProxyHandle::set_plan`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    /// Faults to inject; the first rule that matches a call and fires decides.
    pub rules: Vec<Rule>,
    /// Calls held before they go on.
    pub delays: Vec<Delay>,
    /// Seed of the random choices (the same plan and calls fail the same way).
    pub seed: u64,
    /// Limits enforced on every call.
    pub limits: Limits,
}

impl FaultPlan {
    /// No faults; AWS's limits only.
    pub fn strict() -> Self {
        Self::default()
    }

    /// The plan holding these calls (and injecting nothing).
    pub fn with_delays(delays: Vec<Delay>) -> Self {
        Self { delays, ..Self::default() }
    }

    /// The plan with these rules.
    pub fn with_rules(rules: Vec<Rule>, seed: u64) -> Self {
        Self { rules, delays: Vec::new(), seed, limits: Limits::default() }
    }
}
