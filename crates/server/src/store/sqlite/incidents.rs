//! [`IncidentStore`] on SQLite: incidents, their practices, recipients and acknowledgements.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::audit::append_in;
use super::notifications::enqueue_in;
use super::{SqliteStore, parse_uuid};
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

fn incident_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        title: r.get(1)?,
        description: r.get(2)?,
        occurred_at: r.get(3)?,
        detected_at: r.get(4)?,
        data_kinds: kinds_from(&r.get::<_, String>(5)?),
        steps_taken: r.get(6)?,
        recommendations: r.get(7)?,
        contact: r.get(8)?,
        regulator_notified: r.get(9)?,
        regulator: r.get(10)?,
        regulator_notified_at: r.get(11)?,
        recorded_by: r.get(12)?,
        recorded_at_ms: r.get(13)?,
    })
}

/// The recipient's columns (from `users u`, `incident_recipients r`, `notices n`,
/// `mail_outbox m`), in [`recipient_from`]'s order.
macro_rules! recipient_columns {
    () => {
        "u.id, u.practice_id, u.display_name, u.email,
         u.disabled <> 0 OR u.credentials_removed_at IS NOT NULL,
         coalesce(r.notified, 0), n.created_at, r.mail_id, m.sent_at_ms,
         coalesce(m.attempts, 0), m.last_error, r.acknowledged_at_ms"
    };
}

fn recipient_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecipientRow> {
    Ok(RecipientRow {
        user: UserId(parse_uuid(&r.get::<_, String>(0)?)?),
        practice: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
        display_name: r.get(2)?,
        email: r.get(3)?,
        inactive: r.get(4)?,
        notified: r.get(5)?,
        notice_created_at: r.get(6)?,
        mail_id: r.get(7)?,
        mail_sent_at_ms: r.get(8)?,
        mail_attempts: r.get(9)?,
        mail_error: r.get(10)?,
        acknowledged_at_ms: r.get(11)?,
    })
}

fn affects(c: &rusqlite::Connection, id: Uuid, practice: PracticeId) -> StoreResult<bool> {
    Ok(c.query_row(
        "SELECT 1 FROM incident_practices WHERE incident_id = ?1 AND practice_id = ?2",
        params![id.to_string(), practice.0.to_string()],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

#[async_trait]
impl IncidentStore for SqliteStore {
    async fn record_incident(&self, new: NewIncident, message: Broadcast) -> StoreResult<Recorded> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let i = &new.incident;
            for p in &new.practices {
                let known = tx
                    .query_row(
                        "SELECT 1 FROM practices WHERE id = ?1",
                        [p.0.to_string()],
                        |_| Ok(()),
                    )
                    .optional()?;
                if known.is_none() {
                    return Err(StoreError::Invalid(format!("there is no practice {}", p.0)));
                }
            }
            tx.execute(
                "INSERT INTO incidents (id, title, description, occurred_at, detected_at,
                   data_kinds, steps_taken, recommendations, contact, regulator_notified,
                   regulator, regulator_notified_at, recorded_by, recorded_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    i.id.to_string(),
                    i.title,
                    i.description,
                    i.occurred_at,
                    i.detected_at,
                    kinds_text(&i.data_kinds),
                    i.steps_taken,
                    i.recommendations,
                    i.contact,
                    i.regulator_notified,
                    i.regulator,
                    i.regulator_notified_at,
                    i.recorded_by,
                    i.recorded_at_ms,
                ],
            )?;
            let mut total = 0u64;
            for p in &new.practices {
                tx.execute(
                    "INSERT INTO incident_practices (incident_id, practice_id) VALUES (?1, ?2)",
                    params![i.id.to_string(), p.0.to_string()],
                )?;
                let members: Vec<String> = tx
                    .prepare_cached(
                        "SELECT id FROM users WHERE practice_id = ?1 AND disabled = 0
                           AND credentials_removed_at IS NULL ORDER BY id",
                    )?
                    .query_map([p.0.to_string()], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for m in &members {
                    let user = UserId(parse_uuid(m)?);
                    let d = enqueue_in(&tx, &message.for_member(user, i.recorded_at_ms))?;
                    tx.execute(
                        "INSERT INTO incident_recipients
                           (incident_id, user_id, practice_id, notified, notice_id, mail_id)
                         VALUES (?1, ?2, ?3, 1, ?4, ?5)",
                        params![
                            i.id.to_string(),
                            m,
                            p.0.to_string(),
                            d.notice.map(|n| n.to_string()),
                            d.mail
                        ],
                    )?;
                }
                let n = members.len() as u64;
                append_in(&tx, &recorded_event(i, *p, n))?;
                total += n;
            }
            tx.commit()?;
            Ok(Recorded { recipients: total })
        })
        .await
    }

    async fn incident(&self, id: Uuid) -> StoreResult<Option<IncidentRow>> {
        self.with(move |c| {
            Ok(c.query_row(
                concat!(
                    "SELECT ",
                    incident_columns!(),
                    " FROM incidents i WHERE i.id = ?1"
                ),
                [id.to_string()],
                incident_from,
            )
            .optional()?)
        })
        .await
    }

    async fn incident_practices(&self, id: Uuid) -> StoreResult<Vec<PracticeId>> {
        self.with(move |c| {
            let ids: Vec<String> = c
                .prepare_cached(
                    "SELECT practice_id FROM incident_practices WHERE incident_id = ?1
                     ORDER BY practice_id",
                )?
                .query_map([id.to_string()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.iter().map(|p| Ok(PracticeId(parse_uuid(p)?))).collect()
        })
        .await
    }

    async fn incident_recipients(&self, id: Uuid) -> StoreResult<Vec<RecipientRow>> {
        self.with(move |c| {
            let rows = c
                .prepare_cached(concat!(
                    "SELECT ",
                    recipient_columns!(),
                    " FROM incident_recipients r JOIN users u ON u.id = r.user_id
                      LEFT JOIN notices n ON n.id = r.notice_id
                      LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE r.incident_id = ?1
                     ORDER BY u.practice_id, u.display_name, u.id"
                ))?
                .query_map([id.to_string()], recipient_from)?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn member_incidents(
        &self,
        practice: PracticeId,
        user: UserId,
    ) -> StoreResult<Vec<MemberIncidentRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                "SELECT ",
                incident_columns!(),
                ", n.created_at, m.sent_at_ms, r.acknowledged_at_ms
                     FROM incident_practices ip JOIN incidents i ON i.id = ip.incident_id
                       LEFT JOIN incident_recipients r
                         ON r.incident_id = i.id AND r.user_id = ?2
                       LEFT JOIN notices n ON n.id = r.notice_id
                       LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE ip.practice_id = ?1
                     ORDER BY i.recorded_at_ms DESC, i.id"
            ))?;
            let rows = stmt
                .query_map(params![practice.0.to_string(), user.0.to_string()], |r| {
                    Ok(MemberIncidentRow {
                        incident: incident_from(r)?,
                        notice_created_at: r.get(14)?,
                        mail_sent_at_ms: r.get(15)?,
                        acknowledged_at_ms: r.get(16)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn acknowledge_incident(
        &self,
        practice: PracticeId,
        user: UserId,
        id: Uuid,
        now_ms: i64,
    ) -> StoreResult<bool> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !affects(&tx, id, practice)? {
                return Err(StoreError::NotFound);
            }
            let member = tx
                .query_row(
                    "SELECT 1 FROM users WHERE id = ?1 AND practice_id = ?2",
                    params![user.0.to_string(), practice.0.to_string()],
                    |_| Ok(()),
                )
                .optional()?;
            if member.is_none() {
                return Err(StoreError::NotFound);
            }
            let changed = tx.execute(
                "INSERT INTO incident_recipients
                   (incident_id, user_id, practice_id, notified, acknowledged_at_ms)
                 VALUES (?1, ?2, ?3, 0, ?4)
                 ON CONFLICT (incident_id, user_id) DO UPDATE
                   SET acknowledged_at_ms = excluded.acknowledged_at_ms
                   WHERE incident_recipients.acknowledged_at_ms IS NULL",
                params![
                    id.to_string(),
                    user.0.to_string(),
                    practice.0.to_string(),
                    now_ms
                ],
            )?;
            if changed > 0 {
                append_in(&tx, &acknowledged_event(practice, user, id))?;
            }
            tx.commit()?;
            Ok(changed > 0)
        })
        .await
    }

    async fn practice_incident_recipients(
        &self,
        practice: PracticeId,
        id: Uuid,
    ) -> StoreResult<Vec<RecipientRow>> {
        self.with(move |c| {
            if !affects(c, id, practice)? {
                return Err(StoreError::NotFound);
            }
            let rows = c
                .prepare_cached(concat!(
                    "SELECT ",
                    recipient_columns!(),
                    " FROM users u
                      LEFT JOIN incident_recipients r
                        ON r.user_id = u.id AND r.incident_id = ?2
                      LEFT JOIN notices n ON n.id = r.notice_id
                      LEFT JOIN mail_outbox m ON m.id = r.mail_id
                     WHERE u.practice_id = ?1
                     ORDER BY u.display_name, u.id"
                ))?
                .query_map(
                    params![practice.0.to_string(), id.to_string()],
                    recipient_from,
                )?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }
}
