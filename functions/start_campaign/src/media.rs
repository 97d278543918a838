//! A campaign's files. `POST /accounts/{account}/media` arranges an upload: the declared type
//! and size are checked against WhatsApp's limits, and a pre-signed `PUT` that fixes them (and
//! the file name) is answered with a new media id. When a campaign names media ids, each file is
//! looked at before anything is written: it must have been uploaded by the account, its first
//! bytes must show a JPEG, a PNG or a PDF (whatever its name and declared type say), and its size
//! must fit that type; then the campaign takes its own copy (nobody else writes it, so what is
//! sent is what was checked). Each refusal is a 400 naming the field that named the file.

use crate::{ApiError, Deps};
use api_types::{CampaignRequest, MediaUpload, MediaUploadRequest};
use campaign_store::NewCampaign;
use domain::media::{self, Media, MediaId, MediaType};
use domain::{AccountId, ContentHash, ErrorCode};
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use media_store::{MediaStoreError, UploadRequest};
use std::time::Duration;

/// How long an upload URL works.
pub const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);

fn bad(field: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(ErrorCode::BadRequest, format!("{field}: {what}"))
}

/// `POST /accounts/{account}/media`: a media id and where to upload the file.
pub(crate) async fn upload(deps: &Deps, account: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let account = http_api::account_id(account)?;
    let body: MediaUploadRequest = crate::request::parse_json(req.body().as_ref())?;
    let kind = MediaType::of_mime(&body.content_type)
        .ok_or_else(|| bad("content_type", media::MediaError::ContentType(body.content_type.clone())))?;
    kind.check_size(body.size).map_err(|e| bad("size", e))?;
    let file_name = media::file_name(&body.file_name, kind).map_err(|e| bad("file_name", e))?;
    let hash = body.sha256.as_deref().map(ContentHash::parse).transpose().map_err(|e| bad("sha256", e))?;
    let id = match &hash {
        Some(hash) => MediaId::of_content(&account, hash),
        None => MediaId::generate(uuid::Uuid::new_v4().as_u128()),
    };
    let request = UploadRequest {
        content_type: kind.mime(),
        size: body.size,
        file_name: &file_name,
        sha256: hash.as_ref().map(ContentHash::bytes),
    };
    let arranged = deps
        .media
        .presign_upload(&account, &id, &request, UPLOAD_URL_TTL)
        .await
        .map_err(|e| ApiError::internal("presign upload", &e))?;
    let expires_at = deps.clock.now() + UPLOAD_URL_TTL;
    tracing::info!(%account, media = %id, kind = kind.mime(), size = body.size, "media upload arranged");
    Ok(json_response(
        StatusCode::CREATED,
        &MediaUpload {
            media_id: id.to_string(),
            upload_url: arranged.url,
            upload_headers: arranged.headers.into_iter().collect(),
            expires_at: domain::rfc3339(expires_at),
        },
    ))
}

/// The field of `req` that first names media `id` (a recipient's own `media`, else the
/// campaign's).
fn field_of(req: &CampaignRequest, id: &MediaId) -> String {
    req.recipients
        .iter()
        .position(|r| r.media.as_deref() == Some(id.as_str()))
        .map_or_else(|| "media".to_owned(), |row| format!("recipients[{row}].media"))
}

/// Files looked at and copied at once: a campaign may name a hundred, and one at a time they
/// could outlast the request.
const AT_ONCE: usize = 8;

/// Checks every file `campaign`'s rows name and takes the campaign's own copy of each, filling
/// `campaign.attachments` (in the order the rows first name them).
pub(crate) async fn attach(
    deps: &Deps,
    req: &CampaignRequest,
    campaign: &mut NewCampaign,
) -> Result<(), ApiError> {
    use futures::{StreamExt, TryStreamExt};
    let mut wanted: Vec<MediaId> = Vec::new();
    for id in campaign.messages.iter().filter_map(|m| m.media.as_ref()) {
        if !wanted.contains(id) {
            wanted.push(id.clone());
        }
    }
    let (account, campaign_id) = (&campaign.account, &campaign.id);
    let attachments: Vec<Media> = futures::stream::iter(wanted)
        .map(|id| adopt(deps, req, account, campaign_id, id))
        .buffered(AT_ONCE)
        .try_collect()
        .await?;
    campaign.attachments = attachments;
    Ok(())
}

/// Checks upload `id` of `account` (its bytes decide what it is, its size must fit) and copies it
/// for `campaign_id`.
async fn adopt(
    deps: &Deps,
    req: &CampaignRequest,
    account: &AccountId,
    campaign_id: &domain::CampaignId,
    id: MediaId,
) -> Result<Media, ApiError> {
    let field = field_of(req, &id);
    let found =
        deps.media.inspect(account, &id).await.map_err(|e| ApiError::internal("inspect media", &e))?;
    let Some(found) = found else {
        return Err(bad(
            &field,
            format!(
                "'{id}' was not uploaded for account '{account}', or its upload is more than a day old; upload it with POST /accounts/{account}/media"
            ),
        ));
    };
    let kind = MediaType::sniff(&found.head).map_err(|e| bad(&field, e))?;
    kind.check_size(found.size).map_err(|e| bad(&field, e))?;
    let file_name = media::file_name(found.file_name.as_deref().unwrap_or(id.as_str()), kind)
        .or_else(|_| media::file_name(id.as_str(), kind))
        .map_err(|e| bad(&field, e))?;
    match deps.media.adopt(account, &id, &found.etag, campaign_id).await {
        Ok(()) => {}
        Err(MediaStoreError::Changed(_)) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "{field}: '{id}' was uploaded again while the campaign was being accepted; send the request again"
                ),
            ));
        }
        Err(e) => return Err(ApiError::internal("copy media", &e)),
    }
    Ok(Media { id, kind: kind.kind(), mime: kind.mime().to_owned(), size: found.size, file_name })
}
