//! Notification preferences, the durable mail outbox and the in-app inbox (promise 8).
//! The rules are in [`crate::notifications`] and [`crate::outbox`]; this is what they keep.
//!
//! Invariant: a member's choices, notices and mail are read and changed only by their own
//! user id; nothing here takes one from another member.
//! Invariant: an essential category is on in every channel whatever is stored
//! ([`effective`]); the store never records a choice for one.
//! Invariant: whether a notification is emailed, put in the inbox, both or neither is
//! decided from the member's choices in the same transaction that writes the outbox row
//! and the notice, so a choice committed before it is always honoured.
//! Invariant: an outbox row stays until it is sent or given up; a claim leases it for a
//! while (`next_attempt_ms` moves ahead) so two workers, on one server or two, do not send
//! it twice.

use async_trait::async_trait;
use strongroom_protocol::notifications::{Category, Channel, ChoiceSource, PreferenceChange};
use uuid::Uuid;

use super::{PracticeId, StoreResult, UserId};

/// Whether `category` reaches a member on `channel`, given what they stored (if anything).
pub fn effective(category: Category, channel: Channel, stored: Option<bool>) -> bool {
    category.is_essential() || stored.unwrap_or_else(|| category.default_on(channel))
}

/// A choice a member made, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChoice {
    pub category: Category,
    pub channel: Channel,
    pub enabled: bool,
    pub source: ChoiceSource,
    /// Unix seconds.
    pub changed_at: i64,
}

/// A notification to one member, as [`crate::notifications::Notifier`] prepared it.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user: UserId,
    pub category: Category,
    /// The email's subject and text.
    pub subject: String,
    pub email_body: String,
    /// Extra email headers (`List-Unsubscribe`, ...), as (name, value).
    pub headers: Vec<(String, String)>,
    /// The in-app notice.
    pub notice_id: Uuid,
    pub title: String,
    pub notice_body: String,
    /// Unix seconds, and the same instant in milliseconds (when the mail is first due).
    pub now: i64,
    pub now_ms: i64,
}

/// One essential message to many members at once (a breach notice, a policy change):
/// its words are the same for every member (an essential email carries no unsubscribe
/// link), so the store can fan it out inside the transaction that records its cause.
/// Made by [`crate::notifications::essential_broadcast`].
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub category: Category,
    pub subject: String,
    pub email_body: String,
    pub title: String,
    pub notice_body: String,
}

impl Broadcast {
    /// The notification to `user`, with a notice id of its own, at `now_ms`.
    pub fn for_member(&self, user: UserId, now_ms: i64) -> NewNotification {
        NewNotification {
            user,
            category: self.category,
            subject: self.subject.clone(),
            email_body: self.email_body.clone(),
            headers: Vec::new(),
            notice_id: Uuid::new_v4(),
            title: self.title.clone(),
            notice_body: self.notice_body.clone(),
            now: now_ms.div_euclid(1000),
            now_ms,
        }
    }
}

/// Where a notification went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// The outbox row of its email, if the member takes email of this category.
    pub mail: Option<i64>,
    /// Its notice, if the member takes it in the app or on the desktop.
    pub notice: Option<Uuid>,
}

/// An outbox row claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    /// The member it is for; none for mail to someone who is no member.
    pub user: Option<UserId>,
    pub recipient: String,
    /// The category's stored name (an unknown name is treated as essential: it is sent).
    pub category: String,
    pub subject: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: Uuid,
    pub category: Category,
    pub title: String,
    pub body: String,
    pub in_app: bool,
    pub desktop: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Headers as stored: a JSON array of `[name, value]`.
pub(crate) fn headers_text(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".into())
}

/// Headers from their stored text; unreadable text gives none.
pub(crate) fn headers_from(text: &str) -> Vec<(String, String)> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The notifications part of the store. Every [`crate::store::Store`] is one.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// The member's stored choices (essential categories have none).
    async fn notification_choices(&self, user: UserId) -> StoreResult<Vec<StoredChoice>>;

    /// Records the changes (non-essential categories only; the caller refuses the rest),
    /// all in one transaction, each with `source` and `now`. Answers the member's
    /// practice, or `NotFound` when there is no such member.
    async fn set_notification_choices(
        &self,
        user: UserId,
        changes: Vec<PreferenceChange>,
        source: ChoiceSource,
        now: i64,
    ) -> StoreResult<PracticeId>;

    /// In one transaction: reads the member's choices for the category, queues the email
    /// to their current address if they take email of it, and keeps the notice if they
    /// take it in the app or on the desktop. `NotFound` when there is no such member.
    async fn enqueue_notification(&self, n: NewNotification) -> StoreResult<Delivery>;

    /// Claims up to `limit` rows due at `now_ms`, oldest first, leasing each until
    /// `lease_until_ms` (a worker that dies mid-send leaves it to be retried then).
    async fn claim_due_mail(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>>;

    /// The row was sent, at `now_ms` (kept to the millisecond, and in seconds).
    async fn mail_sent(&self, id: i64, now_ms: i64) -> StoreResult<()>;

    /// An attempt failed: counted, the error kept, and retried at `retry_at_ms`, or given
    /// up when none.
    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> StoreResult<()>;

    /// The row will not be sent (the member opted out while it waited).
    async fn mail_cancelled(&self, id: i64, reason: &str, now: i64) -> StoreResult<()>;

    /// The member's notices, newest first, at most `limit`.
    async fn notices(&self, user: UserId, limit: i64) -> StoreResult<Vec<NoticeRow>>;

    /// Marks one of the member's notices read (once: a second time keeps the first time).
    /// Answers whether the member has such a notice.
    async fn mark_notice_read(&self, user: UserId, id: Uuid, now: i64) -> StoreResult<bool>;
}
