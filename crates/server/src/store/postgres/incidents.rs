//! [`IncidentStore`] on PostgreSQL: incidents, their practices, recipients and
//! acknowledgements. Recording takes each affected practice's row lock (`FOR SHARE`), so a
//! practice cannot go while its notices are written; an acknowledgement takes the
//! member's row lock, so two at once record one.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PostgresStore;
use super::audit::append_in;
use super::notifications::enqueue_in;
use crate::store::incidents::{
    IncidentRow, IncidentStore, MemberIncidentRow, NewIncident, RecipientRow, Recorded,
    acknowledged_event, kinds_from, kinds_text, recorded_event,
};
use crate::store::notifications::Broadcast;
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

/// The incident's columns (of `incidents i`), in [`incident_from`]'s order.
macro_rules! incident_columns {
    () => {
        "i.id, i.title, i.description, i.occurred_at, i.detected_at, i.data_kinds,
         i.steps_taken, i.recommendations, i.contact, i.regulator_notified, i.regulator,
         i.regulator_notified_at, i.recorded_by, i.recorded_at_ms"
    };
}

fn incident_from(r: &Row) -> StoreResult<IncidentRow> {
    Ok(IncidentRow {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        description: r.try_get(2)?,
        occurred_at: r.try_get(3)?,
        detected_at: r.try_get(4)?,
        data_kinds: kinds_from(r.try_get(5)?),
        steps_taken: r.try_get(6)?,
        recommendations: r.try_get(7)?,
        contact: r.try_get(8)?,
        regulator_notified: r.try_get(9)?,
        regulator: r.try_get(10)?,
        regulator_notified_at: r.try_get(11)?,
        recorded_by: r.try_get(12)?,
        recorded_at_ms: r.try_get(13)?,
    })
}

/// The recipient's columns (from `users u`, `incident_recipients r`, `notices n`,
/// `mail_outbox m`), in [`recipient_from`]'s order.
macro_rules! recipient_columns {
    () => {
        "u.id, u.practice_id, u.display_name, u.email,
         u.disabled OR u.credentials_removed_at IS NOT NULL,
         coalesce(r.notified, false), n.created_at, r.mail_id, m.sent_at_ms,
         coalesce(m.attempts, 0)::bigint, m.last_error, r.acknowledged_at_ms"
    };
}

fn recipient_from(r: &Row) -> StoreResult<RecipientRow> {
    Ok(RecipientRow {
        user: UserId(r.try_get(0)?),
        practice: PracticeId(r.try_get(1)?),
        display_name: r.try_get(2)?,
        email: r.try_get(3)?,
        inactive: r.try_get(4)?,
        notified: r.try_get(5)?,
        notice_created_at: r.try_get(6)?,
        mail_id: r.try_get(7)?,
        mail_sent_at_ms: r.try_get(8)?,
        mail_attempts: r.try_get(9)?,
        mail_error: r.try_get(10)?,
        acknowledged_at_ms: r.try_get(11)?,
    })
}

async fn affects<C: GenericClient>(c: &C, id: Uuid, practice: PracticeId) -> StoreResult<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM incident_practices WHERE incident_id = $1 AND practice_id = $2",
        &[&id, &practice.0],
    )
    .await?
    .is_some())
}

#[async_trait]
impl IncidentStore for PostgresStore {
    async fn record_incident(&self, new: NewIncident, message: Broadcast) -> StoreResult<Recorded> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let i = &new.incident;
        for p in &new.practices {
            let known = tx
                .query_opt("SELECT 1 FROM practices WHERE id = $1 FOR SHARE", &[&p.0])
                .await?;
            if known.is_none() {
                return Err(StoreError::Invalid(format!("there is no practice {}", p.0)));
            }
        }
        tx.execute(
            "INSERT INTO incidents (id, title, description, occurred_at, detected_at,
               data_kinds, steps_taken, recommendations, contact, regulator_notified,
               regulator, regulator_notified_at, recorded_by, recorded_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &i.id,
                &i.title,
                &i.description,
                &i.occurred_at,
                &i.detected_at,
                &kinds_text(&i.data_kinds),
                &i.steps_taken,
                &i.recommendations,
                &i.contact,
                &i.regulator_notified,
                &i.regulator,
                &i.regulator_notified_at,
                &i.recorded_by,
                &i.recorded_at_ms,
            ],
        )
        .await?;
        let mut total = 0u64;
        for p in &new.practices {
            tx.execute(
                "INSERT INTO incident_practices (incident_id, practice_id) VALUES ($1, $2)",
                &[&i.id, &p.0],
            )
            .await?;
            let members: Vec<Uuid> = tx
                .query(
                    "SELECT id FROM users WHERE practice_id = $1 AND NOT disabled
                       AND credentials_removed_at IS NULL ORDER BY id",
                    &[&p.0],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            for m in &members {
                let d = enqueue_in(&tx, &message.for_member(UserId(*m), i.recorded_at_ms)).await?;
                tx.execute(
                    "INSERT INTO incident_recipients
                       (incident_id, user_id, practice_id, notified, notice_id, mail_id)
                     VALUES ($1, $2, $3, true, $4, $5)",
                    &[&i.id, m, &p.0, &d.notice, &d.mail],
                )
                .await?;
            }
            let n = members.len() as u64;
            append_in(&tx, &recorded_event(i, *p, n)).await?;
            total += n;
        }
        tx.commit().await?;
        Ok(Recorded { recipients: total })
    }

    async fn incident(&self, id: Uuid) -> StoreResult<Option<IncidentRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                concat!(
                    "SELECT ",
                    incident_columns!(),
                    " FROM incidents i WHERE i.id = $1"
                ),
                &[&id],
            )
            .await?;
        row.as_ref().map(incident_from).transpose()
    }

    async fn incident_practices(&self, id: Uuid) -> StoreResult<Vec<PracticeId>> {
        let client = self.client().await?;
        client
            .query(
                "SELECT practice_id FROM incident_practices WHERE incident_id = $1
                 ORDER BY practice_id",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| Ok(PracticeId(r.try_get(0)?)))
            .collect()
    }

    async fn incident_recipients(&self, id: Uuid) -> StoreResult<Vec<RecipientRow>> {
        let client = self.client().await?;
        client
            .query(
                concat!(
                    "SELECT ",
                    recipient_columns!(),
                    " FROM incident_recipients r JOIN users u ON u.id = r.user_id
                      LEFT JOIN notices n ON n.id = r.notice_id
                      LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE r.incident_id = $1
                     ORDER BY u.practice_id, u.display_name, u.id"
                ),
                &[&id],
            )
            .await?
            .iter()
            .map(recipient_from)
            .collect()
    }

    async fn member_incidents(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<MemberIncidentRow>> {
        let client = self.client().await?;
        client
            .query(
                concat!(
                    "SELECT ",
                    incident_columns!(),
                    ", n.created_at, m.sent_at_ms, r.acknowledged_at_ms
                     FROM incident_practices ip JOIN incidents i ON i.id = ip.incident_id
                       LEFT JOIN incident_recipients r
                         ON r.incident_id = i.id AND r.user_id = $2
                       LEFT JOIN notices n ON n.id = r.notice_id
                       LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE ip.practice_id = $1
                     ORDER BY i.recorded_at_ms DESC, i.id"
                ),
                &[&practice.0, &user.0],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(MemberIncidentRow {
                    incident: incident_from(r)?,
                    notice_created_at: r.try_get(14)?,
                    mail_sent_at_ms: r.try_get(15)?,
                    acknowledged_at_ms: r.try_get(16)?,
                })
            })
            .collect()
    }

    async fn acknowledge_incident(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        if !affects(&tx, id, practice).await? {
            return Err(StoreError::NotFound);
        }
        let member = tx
            .query_opt(
                "SELECT 1 FROM users WHERE id = $1 AND practice_id = $2 FOR UPDATE",
                &[&user.0, &practice.0],
            )
            .await?;
        if member.is_none() {
            return Err(StoreError::NotFound);
        }
        let changed = tx
            .execute(
                "INSERT INTO incident_recipients
                   (incident_id, user_id, practice_id, notified, acknowledged_at_ms)
                 VALUES ($1, $2, $3, false, $4)
                 ON CONFLICT (incident_id, user_id) DO UPDATE
                   SET acknowledged_at_ms = excluded.acknowledged_at_ms
                   WHERE incident_recipients.acknowledged_at_ms IS NULL",
                &[&id, &user.0, &practice.0, &now_ms],
            )
            .await?;
        if changed > 0 {
            append_in(&tx, &acknowledged_event(practice, user, id)).await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    async fn practice_incident_recipients(
        &self,
        practice: PracticeId,
        id: Uuid,
    ) -> StoreResult<Vec<RecipientRow>> {
        let client = self.client().await?;
        if !affects(&client, id, practice).await? {
            return Err(StoreError::NotFound);
        }
        client
            .query(
                concat!(
                    "SELECT ",
                    recipient_columns!(),
                    " FROM users u
                      LEFT JOIN incident_recipients r
                        ON r.user_id = u.id AND r.incident_id = $2
                      LEFT JOIN notices n ON n.id = r.notice_id
                      LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE u.practice_id = $1
                     ORDER BY u.display_name, u.id"
                ),
                &[&practice.0, &id],
            )
            .await?
            .iter()
            .map(recipient_from)
            .collect()
    }
}
