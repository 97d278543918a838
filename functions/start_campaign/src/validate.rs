//! From a parsed request to a campaign: every field and row checked, the first one at fault
//! named in the error; duplicates collapsed; invalid numbers kept as FAILED rows (or, in strict
//! mode, the whole request refused).

use crate::{ApiError, CampaignRequest};
use campaign_store::{NewCampaign, NewMessage};
use domain::media::MAX_CAPTION_CHARS;
use domain::{
    AccountId, CampaignId, ErrorCode, MediaId, MessageSeq, PhoneNumber, SendAt, Template, WebhookUrl,
};

/// The most recipients one request may carry (fits the 6 MB Lambda payload with room to spare).
pub const MAX_RECIPIENTS: usize = 10_000;
/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Variables one recipient may carry.
pub const MAX_VARIABLES: usize = 32;
/// The longest variable name, in characters.
pub const MAX_VARIABLE_NAME: usize = 64;
/// The longest variable value, in characters.
pub const MAX_VARIABLE_VALUE: usize = 1024;
/// The longest message once a recipient's variables are filled in, in characters (WhatsApp Web
/// takes more, but a campaign message this long is a mistake, and rows stay far below
/// DynamoDB's 400 KB items).
pub const MAX_MESSAGE_CHARS: usize = 4096;
/// The longest phone field as given, in characters.
pub const MAX_PHONE_CHARS: usize = 64;
/// The most different files one campaign sends (each is checked and copied at acceptance).
pub const MAX_MEDIA_FILES: usize = 100;

/// A media id of the request, or the 400 naming its `field`.
fn media_id(field: &str, raw: &str) -> Result<MediaId, ApiError> {
    MediaId::parse(raw).map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, format!("{field}: {e}")))
}

/// The first limit recipient `row` breaks, as the 400 that names it; `with_media` when the
/// message is a file's caption (WhatsApp takes at most 1,024 characters there).
fn check_recipient(
    row: usize,
    r: &crate::RecipientRequest,
    template: &Template,
    with_media: bool,
) -> Result<(), ApiError> {
    let bad =
        |what: String| ApiError::bad_request(ErrorCode::BadRequest, format!("recipients[{row}]: {what}"));
    if r.phone.chars().count() > MAX_PHONE_CHARS {
        return Err(bad(format!("phone: longer than {MAX_PHONE_CHARS} characters")));
    }
    if r.vars.len() > MAX_VARIABLES {
        return Err(bad(format!("vars: {} given; the limit is {MAX_VARIABLES}", r.vars.len())));
    }
    for (name, value) in &r.vars {
        if name.is_empty() || name.chars().count() > MAX_VARIABLE_NAME {
            return Err(bad(format!("vars: a name must be 1 to {MAX_VARIABLE_NAME} characters")));
        }
        if value.chars().count() > MAX_VARIABLE_VALUE {
            return Err(bad(format!("vars.{name}: longer than {MAX_VARIABLE_VALUE} characters")));
        }
    }
    if let Ok(text) = template.render_longest(&r.vars) {
        let chars = text.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(bad(format!("the message is {chars} characters; the limit is {MAX_MESSAGE_CHARS}")));
        }
        if with_media && chars > MAX_CAPTION_CHARS {
            return Err(bad(format!(
                "the message is {chars} characters; sent with a file it is its caption, at most {MAX_CAPTION_CHARS}"
            )));
        }
    }
    Ok(())
}

/// Turns a parsed request into a campaign accepted at `now`, naming the first field or row at
/// fault.
pub fn validate(
    req: &CampaignRequest,
    id: CampaignId,
    now: time::OffsetDateTime,
) -> Result<NewCampaign, ApiError> {
    use ErrorCode::BadRequest;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(BadRequest, "name: must be 1 to 200 characters"));
    }
    let account = AccountId::parse(&req.account)
        .map_err(|e| ApiError::bad_request(BadRequest, format!("account: {e}")))?;
    let template = Template::parse(&req.template)
        .map_err(|e| ApiError::bad_request(BadRequest, format!("template: {e}")))?;
    if let Some(region) = &req.default_region {
        PhoneNumber::parse("+4915112345678", Some(region))
            .map_err(|e| ApiError::bad_request(BadRequest, format!("default_region: {e}")))?;
    }
    let webhook = req
        .webhook_url
        .as_deref()
        .map(WebhookUrl::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(BadRequest, format!("webhook_url: {e}")))?;
    let send_at = req
        .send_at
        .as_deref()
        .map(|raw| SendAt::parse(raw, now))
        .transpose()
        .map_err(|e| ApiError::bad_request(BadRequest, format!("send_at: {e}")))?;
    if req.recipients.is_empty() {
        return Err(ApiError::bad_request(BadRequest, "recipients: at least one recipient is required"));
    }
    if req.recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("recipients: {} given; the limit is {MAX_RECIPIENTS} per request", req.recipients.len()),
        ));
    }
    let campaign_media = req.media.as_deref().map(|raw| media_id("media", raw)).transpose()?;
    let mut files = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut messages = Vec::with_capacity(req.recipients.len());
    let mut invalid = Vec::new();
    for (row, r) in req.recipients.iter().enumerate() {
        let own =
            r.media.as_deref().map(|raw| media_id(&format!("recipients[{row}].media"), raw)).transpose()?;
        let media = own.or_else(|| campaign_media.clone());
        if let Some(id) = &media
            && files.insert(id.clone())
            && files.len() > MAX_MEDIA_FILES
        {
            return Err(ApiError::bad_request(
                BadRequest,
                format!(
                    "recipients[{row}].media: more than {MAX_MEDIA_FILES} different files in one campaign"
                ),
            ));
        }
        check_recipient(row, r, &template, media.is_some())?;
        if let Some(var) = template.missing_variable(&r.vars) {
            return Err(ApiError::bad_request(
                ErrorCode::TemplateVariableMissing,
                format!("recipients[{row}]: variable '{var}' is missing"),
            ));
        }
        let phone = PhoneNumber::parse(&r.phone, req.default_region.as_deref());
        if let Ok(p) = &phone {
            if !seen.insert(p.e164().to_owned()) {
                continue; // the same recipient twice gets one message
            }
        } else {
            invalid.push(row);
        }
        let seq = MessageSeq(u32::try_from(messages.len()).unwrap_or(u32::MAX));
        messages.push(NewMessage {
            seq,
            phone: phone.map_err(|_| r.phone.clone()),
            vars: r.vars.clone(),
            opted_out: false,
            media,
        });
    }
    if req.strict && !invalid.is_empty() {
        let rows: Vec<String> = invalid.iter().map(|r| format!("recipients[{r}]")).collect();
        return Err(ApiError::bad_request(
            ErrorCode::InvalidPhone,
            format!("invalid phone numbers (strict mode): {}", rows.join(", ")),
        ));
    }
    Ok(NewCampaign {
        id,
        name: name.to_owned(),
        account,
        template,
        messages,
        created_at: domain::rfc3339(now),
        paused: None,
        webhook,
        send_at,
        attachments: Vec::new(),
    })
}
