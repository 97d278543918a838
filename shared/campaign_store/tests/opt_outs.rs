//! The accounts' opt-out lists in the DynamoDB adapter against the local AWS: added, removed,
//! and read back for many numbers at once (more than one batch, repeats included), each list
//! its account's own.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{CampaignStore, DynamoCampaignStore};
use domain::{AccountId, PhoneNumber};

fn phone(i: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+4915112{i:06}"), None).unwrap()
}

#[tokio::test]
async fn numbers_on_an_accounts_list_are_found_among_many_and_only_for_that_account() {
    let (client, table) = test_support::fresh_table("campaign-opt-outs").await;
    let store = DynamoCampaignStore::new(client, table);
    let (shop, other) = (AccountId::parse("shop").unwrap(), AccountId::parse("other").unwrap());
    for i in [3, 150, 240] {
        store.add_opt_out(&shop, &phone(i), "2026-12-04T00:00:00Z").await.unwrap();
    }
    store.add_opt_out(&shop, &phone(3), "2026-12-04T01:00:00Z").await.unwrap();
    store.add_opt_out(&other, &phone(7), "2026-12-04T00:00:00Z").await.unwrap();
    // 250 numbers (three batches of the 100 DynamoDB reads at once), one of them twice.
    let mut asked: Vec<String> = (0..250).map(|i| phone(i).e164().to_owned()).collect();
    asked.push(phone(150).e164().to_owned());
    let found = store.opted_out(&shop, &asked).await.unwrap();
    let expected: Vec<String> = [3, 150, 240].iter().map(|&i| phone(i).e164().to_owned()).collect();
    assert_eq!(found.into_iter().collect::<Vec<_>>(), expected);
    assert_eq!(store.opted_out(&other, &asked).await.unwrap().len(), 1);

    assert!(store.remove_opt_out(&shop, &phone(150)).await.unwrap());
    assert!(!store.remove_opt_out(&shop, &phone(150)).await.unwrap(), "not on the list any more");
    assert_eq!(store.opted_out(&shop, &asked).await.unwrap().len(), 2);
    assert!(store.opted_out(&shop, &[]).await.unwrap().is_empty());
}
