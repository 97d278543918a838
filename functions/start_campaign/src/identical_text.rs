//! The duplicate-text guard: a campaign in which more than half of at least
//! [`MIN_RECIPIENTS`] sendable recipients would get exactly the same text is accepted with an
//! IDENTICAL_TEXT notice (WhatsApp restricts numbers that send one text to many). Each row's
//! text is the one the sender will send (`Template::render_for`), so choices count as the
//! variety they are.

use api_types::Problem;
use campaign_store::NewCampaign;
use domain::ErrorCode;
use std::collections::HashMap;

/// The fewest sendable recipients the guard looks at (a handful of messages is no campaign).
pub const MIN_RECIPIENTS: usize = 10;

/// The notice for `campaign`, when most of its recipients would get the same text.
pub fn check(campaign: &NewCampaign) -> Option<Problem> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut sendable = 0;
    for m in campaign.messages.iter().filter(|m| m.refusal().is_none()) {
        if let Ok(text) = campaign.template.render_for(&m.vars, &campaign.id, m.seq) {
            sendable += 1;
            *counts.entry(text).or_default() += 1;
        }
    }
    let most = counts.values().copied().max().unwrap_or(0);
    (sendable >= MIN_RECIPIENTS && most * 2 > sendable).then(|| Problem {
        code: ErrorCode::IdenticalText,
        message: format!("{most} of {sendable} recipients would get exactly the same text."),
        hint: ErrorCode::IdenticalText.hint().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Template;

    fn campaign(template: &str, n: u32) -> NewCampaign {
        let mut c = test_support::fixtures::campaign(n);
        // A fixed id: which alternative a row gets depends on it.
        c.id = domain::CampaignId::parse("c-identical").unwrap_or_else(|e| panic!("{e}"));
        c.template = Template::parse(template).unwrap_or_else(|e| panic!("{e}"));
        for (i, m) in c.messages.iter_mut().enumerate() {
            m.vars = [("name".to_owned(), format!("R{}", i % 3))].into_iter().collect();
        }
        c
    }

    #[test]
    fn one_text_for_everybody_is_noticed_naming_how_many_get_it() {
        let notice = check(&campaign("Spring sale today", 12)).unwrap_or_else(|| panic!("no notice"));
        assert_eq!(notice.code, ErrorCode::IdenticalText);
        assert_eq!(notice.message, "12 of 12 recipients would get exactly the same text.");
    }

    #[test]
    fn variables_or_choices_that_vary_the_text_pass_and_so_does_a_small_campaign() {
        // Three names: the most common text goes to 4 of 12.
        assert_eq!(check(&campaign("Hi {{name}}", 12)), None);
        assert_eq!(check(&campaign("{Hi|Hello|Hey|Good day|Howdy} there", 40)), None);
        assert_eq!(check(&campaign("Spring sale today", 9)), None);
    }
}
