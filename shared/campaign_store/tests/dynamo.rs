//! The DynamoDB adapter against the local AWS: claims are exclusive, counters follow every
//! transition, and a lost lease is reported as ambiguous.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use campaign_store::{
    CampaignStore, Claim, DynamoCampaignStore, Finish, Lease, NewCampaign, NewMessage, Transition,
};
use domain::{
    AccountId, CampaignId, CampaignStatus, ErrorCode, MessageSeq, MessageStatus, PhoneNumber, Template,
};

async fn fresh_store() -> DynamoCampaignStore {
    let client = aws_sdk_dynamodb::Client::new(&e2e::aws().await);
    let table = format!("campaign-store-{}", uuid::Uuid::new_v4().simple());
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![attr("PK"), attr("SK"), attr("GSI1PK"), attr("GSI1SK")]))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("GSI1")
                .key_schema(key("GSI1PK", KeyType::Hash))
                .key_schema(key("GSI1SK", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot create a table in the local AWS ({e}): start it with `make local-up`")
        });
    DynamoCampaignStore::new(client, table)
}

async fn campaign(store: &DynamoCampaignStore, n: u32) -> CampaignId {
    let id = CampaignId::generate(uuid::Uuid::new_v4().as_u128());
    let messages = (0..n)
        .map(|i| NewMessage {
            seq: MessageSeq(i),
            phone: PhoneNumber::parse(&format!("+49151123456{i:02}"), None).map_err(|e| e.to_string()),
            vars: Default::default(),
        })
        .collect();
    store
        .create_campaign(&NewCampaign {
            id: id.clone(),
            name: "t".into(),
            account: AccountId::parse("shop").unwrap(),
            template: Template::parse("hi").unwrap(),
            messages,
            created_at: "2026-11-29T00:00:00Z".into(),
        })
        .await
        .unwrap();
    id
}

fn lease(now: i64) -> Lease {
    Lease { now, until: now + 60, at: format!("t{now}") }
}

#[tokio::test]
async fn a_row_is_claimed_once_and_its_counters_follow_it_to_completion() {
    let store = fresh_store().await;
    let id = campaign(&store, 2).await;
    // Given two concurrent claims of the same row, exactly one wins.
    let l = lease(100);
    let (a, b) = tokio::join!(
        store.claim_message(&id, MessageSeq(0), &l),
        store.claim_message(&id, MessageSeq(0), &l)
    );
    let claims = [a.unwrap(), b.unwrap()];
    let fresh: Vec<_> = claims.iter().filter(|c| matches!(c, Claim::Fresh(_))).collect();
    assert_eq!(fresh.len(), 1, "{claims:?}");
    assert!(claims.iter().any(|c| matches!(c, Claim::Busy { lease_until: 160 })), "{claims:?}");
    let counts = store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.queued, counts.sending), (1, 1));

    // When it is sent and the other row fails, the campaign completes with matching counters.
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t1").await.unwrap(),
        Transition::Applied
    );
    assert!(matches!(store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    let failed = Finish::Failed(ErrorCode::NotOnWhatsapp);
    assert_eq!(
        store.finish_message(&id, MessageSeq(1), 1, &failed, "t2").await.unwrap(),
        Transition::Applied
    );
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.sent, view.counts.failed, view.counts.sending, view.counts.queued), (1, 1, 0, 0));
    assert_eq!(view.status, CampaignStatus::Completed);
    // Then a redelivered record finds the row settled and changes nothing.
    assert_eq!(store.claim_message(&id, MessageSeq(0), &lease(200)).await.unwrap(), Claim::Settled);
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t3").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
}

#[tokio::test]
async fn a_claim_whose_lease_expired_is_taken_over_as_ambiguous_and_the_old_claim_cannot_finish() {
    let store = fresh_store().await;
    let id = campaign(&store, 1).await;
    assert!(matches!(store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    // Before the lease ends another sender is told to wait; after it, it takes over.
    assert_eq!(
        store.claim_message(&id, MessageSeq(0), &lease(150)).await.unwrap(),
        Claim::Busy { lease_until: 160 }
    );
    let Claim::Ambiguous(row) = store.claim_message(&id, MessageSeq(0), &lease(161)).await.unwrap() else {
        panic!("expected an ambiguous claim")
    };
    assert_eq!((row.status, row.attempts), (MessageStatus::Sending, 2));
    // The first sender's late finish is refused; the second one's counts.
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 2, &Finish::Sent, "t").await.unwrap(),
        Transition::Applied
    );
    let counts = store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.sending), (1, 0));
}

#[tokio::test]
async fn a_released_claim_goes_back_to_queued_and_rows_are_listed_by_status() {
    let store = fresh_store().await;
    let id = campaign(&store, 3).await;
    assert!(matches!(store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    assert_eq!(
        store.finish_message(&id, MessageSeq(1), 1, &Finish::Released, "t").await.unwrap(),
        Transition::Applied
    );
    let queued = store.messages_in_status(&id, MessageStatus::Queued, None, 10).await.unwrap();
    assert_eq!(queued.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    let page = store.messages_in_status(&id, MessageStatus::Queued, Some(MessageSeq(0)), 1).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![1]);
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.queued, view.counts.sending, view.status), (3, 0, CampaignStatus::Running));
}
