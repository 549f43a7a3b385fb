//! [`NotificationStore`] on SQLite: choices, the mail outbox and the inbox.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use strongroom_protocol::notifications::{Category, Channel, ChoiceSource, PreferenceChange};
use uuid::Uuid;

use super::{SqliteStore, parse_uuid};
use crate::store::notifications::{
    Delivery, NewNotification, NoticeRow, NotificationStore, OutboxRow, StoredChoice, effective,
    headers_from, headers_text,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn choices(c: &Connection, user: UserId) -> StoreResult<Vec<StoredChoice>> {
    let mut stmt = c.prepare_cached(
        "SELECT category, channel, enabled, source, changed_at FROM notification_choices
         WHERE user_id = ?1",
    )?;
    let rows = stmt
        .query_map([user.0.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // A row of a name this build does not know is left out, never an error.
    Ok(rows
        .into_iter()
        .filter_map(|(cat, ch, enabled, source, changed_at)| {
            Some(StoredChoice {
                category: Category::parse(&cat)?,
                channel: Channel::parse(&ch)?,
                enabled,
                source: ChoiceSource::parse(&source)?,
                changed_at,
            })
        })
        .filter(|c| !c.category.is_essential())
        .collect())
}

fn wants(stored: &[StoredChoice], category: Category, channel: Channel) -> bool {
    let choice = stored
        .iter()
        .find(|c| c.category == category && c.channel == channel)
        .map(|c| c.enabled);
    effective(category, channel, choice)
}

fn notice_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<NoticeRow>> {
    let category: String = r.get(1)?;
    let Some(category) = Category::parse(&category) else {
        return Ok(None);
    };
    Ok(Some(NoticeRow {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        category,
        title: r.get(2)?,
        body: r.get(3)?,
        in_app: r.get(4)?,
        desktop: r.get(5)?,
        created_at: r.get(6)?,
        read_at: r.get(7)?,
    }))
}

/// Queues `n` inside the open transaction on `tx`: reads the member's choices, writes the
/// outbox row and the notice as they say. `NotFound` when there is no such member.
pub(super) fn enqueue_in(tx: &Connection, n: &NewNotification) -> StoreResult<Delivery> {
    let email: String = tx
        .query_row(
            "SELECT email FROM users WHERE id = ?1",
            [n.user.0.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let stored = choices(tx, n.user)?;
    let mut delivery = Delivery::default();
    if wants(&stored, n.category, Channel::Email) {
        let id: i64 = tx.query_row(
            "INSERT INTO mail_outbox
               (user_id, recipient, category, subject, body, headers, next_attempt_ms,
                created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            params![
                n.user.0.to_string(),
                email,
                n.category.as_str(),
                n.subject,
                n.email_body,
                headers_text(&n.headers),
                n.now_ms,
                n.now
            ],
            |r| r.get(0),
        )?;
        delivery.mail = Some(id);
    }
    let in_app = wants(&stored, n.category, Channel::InApp);
    let desktop = wants(&stored, n.category, Channel::Desktop);
    if in_app || desktop {
        tx.execute(
            "INSERT INTO notices
               (id, user_id, category, title, body, in_app, desktop, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                n.notice_id.to_string(),
                n.user.0.to_string(),
                n.category.as_str(),
                n.title,
                n.notice_body,
                in_app,
                desktop,
                n.now
            ],
        )?;
        delivery.notice = Some(n.notice_id);
    }
    Ok(delivery)
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn notification_choices(&self, user: UserId) -> StoreResult<Vec<StoredChoice>> {
        self.with(move |c| choices(c, user)).await
    }

    async fn set_notification_choices(
        &self,
        user: UserId,
        changes: Vec<PreferenceChange>,
        source: ChoiceSource,
        now: i64,
    ) -> StoreResult<PracticeId> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let practice: String = tx
                .query_row(
                    "SELECT practice_id FROM users WHERE id = ?1",
                    [user.0.to_string()],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(StoreError::NotFound)?;
            for ch in changes.iter().filter(|c| !c.category.is_essential()) {
                tx.prepare_cached(
                    "INSERT INTO notification_choices
                       (user_id, category, channel, enabled, source, changed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (user_id, category, channel) DO UPDATE SET
                       enabled = excluded.enabled, source = excluded.source,
                       changed_at = excluded.changed_at",
                )?
                .execute(params![
                    user.0.to_string(),
                    ch.category.as_str(),
                    ch.channel.as_str(),
                    ch.enabled,
                    source.as_str(),
                    now
                ])?;
            }
            tx.commit()?;
            Ok(PracticeId(parse_uuid(&practice)?))
        })
        .await
    }

    async fn enqueue_notification(&self, n: NewNotification) -> StoreResult<Delivery> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let delivery = enqueue_in(&tx, &n)?;
            tx.commit()?;
            Ok(delivery)
        })
        .await
    }

    async fn claim_due_mail(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "UPDATE mail_outbox SET next_attempt_ms = ?2
                 WHERE id IN (SELECT id FROM mail_outbox
                              WHERE sent_at IS NULL AND cancelled_at IS NULL
                                AND next_attempt_ms <= ?1
                              ORDER BY next_attempt_ms, id LIMIT ?3)
                 RETURNING id, user_id, recipient, category, subject, body, headers, attempts",
            )?;
            let mut rows = stmt
                .query_map(params![now_ms, lease_until_ms, limit], |r| {
                    let user: Option<String> = r.get(1)?;
                    Ok(OutboxRow {
                        id: r.get(0)?,
                        user: user.map(|u| parse_uuid(&u).map(UserId)).transpose()?,
                        recipient: r.get(2)?,
                        category: r.get(3)?,
                        subject: r.get(4)?,
                        body: r.get(5)?,
                        headers: headers_from(&r.get::<_, String>(6)?),
                        attempts: r.get(7)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.sort_by_key(|r| r.id);
            Ok(rows)
        })
        .await
    }

    async fn mail_sent(&self, id: i64, now_ms: i64) -> StoreResult<()> {
        self.with(move |c| {
            c.execute(
                "UPDATE mail_outbox SET sent_at = ?2, sent_at_ms = ?3, attempts = attempts + 1,
                   last_error = NULL
                 WHERE id = ?1",
                params![id, now_ms.div_euclid(1000), now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let error = error.to_owned();
        self.with(move |c| {
            c.execute(
                "UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?2,
                   next_attempt_ms = coalesce(?3, next_attempt_ms),
                   cancelled_at = CASE WHEN ?3 IS NULL THEN ?4 END
                 WHERE id = ?1",
                params![id, error, retry_at_ms, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn mail_cancelled(&self, id: i64, reason: &str, now: i64) -> StoreResult<()> {
        let reason = reason.to_owned();
        self.with(move |c| {
            c.execute(
                "UPDATE mail_outbox SET cancelled_at = ?3, last_error = ?2 WHERE id = ?1",
                params![id, reason, now],
            )?;
            Ok(())
        })
        .await
    }

    async fn notices(&self, user: UserId, limit: i64) -> StoreResult<Vec<NoticeRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, category, title, body, in_app, desktop, created_at, read_at
                 FROM notices WHERE user_id = ?1
                 ORDER BY created_at DESC, rowid DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![user.0.to_string(), limit], notice_from)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows.into_iter().flatten().collect())
        })
        .await
    }

    async fn mark_notice_read(&self, user: UserId, id: Uuid, now: i64) -> StoreResult<bool> {
        self.with(move |c| {
            let found: Option<i64> = c
                .query_row(
                    "UPDATE notices SET read_at = coalesce(read_at, ?3)
                     WHERE user_id = ?1 AND id = ?2 RETURNING 1",
                    params![user.0.to_string(), id.to_string(), now],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }
}
