//! [`NotificationStore`] on PostgreSQL: choices, the mail outbox and the inbox.
//!
//! A change of choices takes the member's row lock (`FOR UPDATE`) and an enqueue shares it
//! (`FOR SHARE`), so the two are ordered: an enqueue sees every change committed before it.
//! Claims skip rows another worker holds (`FOR UPDATE SKIP LOCKED`).

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use strongroom_protocol::notifications::{Category, Channel, ChoiceSource, PreferenceChange};
use uuid::Uuid;

use super::PostgresStore;
use crate::store::notifications::{
    Delivery, NewNotification, NoticeRow, NotificationStore, OutboxRow, StoredChoice, effective,
    headers_from, headers_text,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

async fn choices<C: GenericClient>(c: &C, user: UserId) -> StoreResult<Vec<StoredChoice>> {
    let rows = c
        .query(
            "SELECT category, channel, enabled, source, changed_at FROM notification_choices
             WHERE user_id = $1",
            &[&user.0],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // A row of a name this build does not know is left out, never an error.
        let (Some(category), Some(channel), Some(source)) = (
            Category::parse(r.try_get(0)?),
            Channel::parse(r.try_get(1)?),
            ChoiceSource::parse(r.try_get(3)?),
        ) else {
            continue;
        };
        if category.is_essential() {
            continue;
        }
        out.push(StoredChoice {
            category,
            channel,
            enabled: r.try_get(2)?,
            source,
            changed_at: r.try_get(4)?,
        });
    }
    Ok(out)
}

fn wants(stored: &[StoredChoice], category: Category, channel: Channel) -> bool {
    let choice = stored
        .iter()
        .find(|c| c.category == category && c.channel == channel)
        .map(|c| c.enabled);
    effective(category, channel, choice)
}

/// Queues `n` inside `tx`: reads the member's choices (sharing their row lock, so a change
/// of choices is ordered with it), writes the outbox row and the notice as they say.
/// `NotFound` when there is no such member.
pub(super) async fn enqueue_in<C: GenericClient>(
    tx: &C,
    n: &NewNotification,
) -> StoreResult<Delivery> {
    let email: String = tx
        .query_opt(
            "SELECT email FROM users WHERE id = $1 FOR SHARE",
            &[&n.user.0],
        )
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?;
    let stored = choices(tx, n.user).await?;
    let mut delivery = Delivery::default();
    if wants(&stored, n.category, Channel::Email) {
        let row = tx
            .query_one(
                "INSERT INTO mail_outbox
                   (user_id, recipient, category, subject, body, headers, next_attempt_ms,
                    created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &n.user.0,
                    &email,
                    &n.category.as_str(),
                    &n.subject,
                    &n.email_body,
                    &headers_text(&n.headers),
                    &n.now_ms,
                    &n.now,
                ],
            )
            .await?;
        delivery.mail = Some(row.try_get(0)?);
    }
    let in_app = wants(&stored, n.category, Channel::InApp);
    let desktop = wants(&stored, n.category, Channel::Desktop);
    if in_app || desktop {
        tx.execute(
            "INSERT INTO notices
               (id, user_id, category, title, body, in_app, desktop, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &n.notice_id,
                &n.user.0,
                &n.category.as_str(),
                &n.title,
                &n.notice_body,
                &in_app,
                &desktop,
                &n.now,
            ],
        )
        .await?;
        delivery.notice = Some(n.notice_id);
    }
    Ok(delivery)
}

#[async_trait]
impl NotificationStore for PostgresStore {
    async fn notification_choices(&self, user: UserId) -> StoreResult<Vec<StoredChoice>> {
        let client = self.client().await?;
        choices(&client, user).await
    }

    async fn set_notification_choices(
        &self,
        user: UserId,
        changes: Vec<PreferenceChange>,
        source: ChoiceSource,
        now: i64,
    ) -> StoreResult<PracticeId> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let practice: Uuid = tx
            .query_opt(
                "SELECT practice_id FROM users WHERE id = $1 FOR UPDATE",
                &[&user.0],
            )
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO notification_choices
                   (user_id, category, channel, enabled, source, changed_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (user_id, category, channel) DO UPDATE SET
                   enabled = excluded.enabled, source = excluded.source,
                   changed_at = excluded.changed_at",
            )
            .await?;
        for ch in changes.iter().filter(|c| !c.category.is_essential()) {
            tx.execute(
                &stmt,
                &[
                    &user.0,
                    &ch.category.as_str(),
                    &ch.channel.as_str(),
                    &ch.enabled,
                    &source.as_str(),
                    &now,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(PracticeId(practice))
    }

    async fn enqueue_notification(&self, n: NewNotification) -> StoreResult<Delivery> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let delivery = enqueue_in(&tx, &n).await?;
        tx.commit().await?;
        Ok(delivery)
    }

    async fn claim_due_mail(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE mail_outbox SET next_attempt_ms = $2
                 WHERE id IN (SELECT id FROM mail_outbox
                              WHERE sent_at IS NULL AND cancelled_at IS NULL
                                AND next_attempt_ms <= $1
                              ORDER BY next_attempt_ms, id LIMIT $3
                              FOR UPDATE SKIP LOCKED)
                 RETURNING id, user_id, recipient, category, subject, body, headers, attempts",
                &[&now_ms, &lease_until_ms, &limit],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let user: Option<Uuid> = r.try_get(1)?;
            let attempts: i32 = r.try_get(7)?;
            out.push(OutboxRow {
                id: r.try_get(0)?,
                user: user.map(UserId),
                recipient: r.try_get(2)?,
                category: r.try_get(3)?,
                subject: r.try_get(4)?,
                body: r.try_get(5)?,
                headers: headers_from(r.try_get(6)?),
                attempts: i64::from(attempts),
            });
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    async fn mail_sent(&self, id: i64, now_ms: i64) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE mail_outbox SET sent_at = $2, sent_at_ms = $3, attempts = attempts + 1,
                   last_error = NULL
                 WHERE id = $1",
                &[&id, &now_ms.div_euclid(1000), &now_ms],
            )
            .await?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at_ms: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2,
                   next_attempt_ms = coalesce($3::bigint, next_attempt_ms),
                   cancelled_at = CASE WHEN $3::bigint IS NULL THEN $4::bigint END
                 WHERE id = $1",
                &[&id, &error, &retry_at_ms, &now],
            )
            .await?;
        Ok(())
    }

    async fn mail_cancelled(&self, id: i64, reason: &str, now: i64) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE mail_outbox SET cancelled_at = $3, last_error = $2 WHERE id = $1",
                &[&id, &reason, &now],
            )
            .await?;
        Ok(())
    }

    async fn notices(&self, user: UserId, limit: i64) -> StoreResult<Vec<NoticeRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, category, title, body, in_app, desktop, created_at, read_at
                 FROM notices WHERE user_id = $1
                 ORDER BY created_at DESC, id DESC LIMIT $2",
                &[&user.0, &limit],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(category) = Category::parse(r.try_get(1)?) else {
                continue;
            };
            out.push(NoticeRow {
                id: r.try_get(0)?,
                category,
                title: r.try_get(2)?,
                body: r.try_get(3)?,
                in_app: r.try_get(4)?,
                desktop: r.try_get(5)?,
                created_at: r.try_get(6)?,
                read_at: r.try_get(7)?,
            });
        }
        Ok(out)
    }

    async fn mark_notice_read(&self, user: UserId, id: Uuid, now: i64) -> StoreResult<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE notices SET read_at = coalesce(read_at, $3)
                 WHERE user_id = $1 AND id = $2",
                &[&user.0, &id, &now],
            )
            .await?;
        Ok(n > 0)
    }
}
