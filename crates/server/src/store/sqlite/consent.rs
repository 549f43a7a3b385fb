//! [`ConsentStore`] on SQLite: consent records and their audit entries.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use strongroom_protocol::consent::{ConsentChoices, ConsentSource, ConsentSurface};

use super::audit::append_in;
use super::{SqliteStore, parse_uuid};
use crate::store::consent::{
    ConsentStore, NewConsent, StoredConsent, UsageEvent, consent_event, items_from, items_text,
};
use crate::store::{PracticeId, StoreError, StoreResult, UserId};

fn text_error(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredConsent> {
    Ok(StoredConsent {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        choices: ConsentChoices {
            functional: r.get(1)?,
            analytics: r.get(2)?,
            items: items_from(&r.get::<_, String>(3)?),
        },
        source: ConsentSource::parse(&r.get::<_, String>(4)?)
            .ok_or_else(|| text_error("consent source"))?,
        surface: ConsentSurface::parse(&r.get::<_, String>(5)?)
            .ok_or_else(|| text_error("consent surface"))?,
        policy_version: r.get(6)?,
        recorded_at: r.get(7)?,
    })
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn record_consent(&self, new: NewConsent, only_if_none: bool) -> StoreResult<bool> {
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (practice, user) = (new.practice.0.to_string(), new.user.0.to_string());
            let member = tx
                .query_row(
                    "SELECT 1 FROM users WHERE id = ?1 AND practice_id = ?2",
                    params![user, practice],
                    |_| Ok(()),
                )
                .optional()?;
            if member.is_none() {
                return Err(StoreError::NotFound);
            }
            if only_if_none {
                let any = tx
                    .query_row(
                        "SELECT 1 FROM consent_records WHERE practice_id = ?1 AND user_id = ?2
                         LIMIT 1",
                        params![practice, user],
                        |_| Ok(()),
                    )
                    .optional()?;
                if any.is_some() {
                    return Ok(false);
                }
            }
            let r = &new.record;
            tx.execute(
                "INSERT INTO consent_records (id, practice_id, user_id, functional, analytics,
                   items, source, surface, policy_version, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    r.id.to_string(),
                    practice,
                    user,
                    r.choices.functional,
                    r.choices.analytics,
                    items_text(&r.choices.items),
                    r.source.as_str(),
                    r.surface.as_str(),
                    r.policy_version,
                    r.recorded_at,
                ],
            )?;
            append_in(&tx, &consent_event(&new))?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn consent_history(
        &self,
        practice: PracticeId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<StoredConsent>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, functional, analytics, items, source, surface, policy_version,
                        recorded_at
                 FROM consent_records WHERE practice_id = ?1 AND user_id = ?2
                 ORDER BY seq DESC LIMIT ?3",
            )?;
            Ok(stmt
                .query_map(
                    params![practice.0.to_string(), user.0.to_string(), limit],
                    record_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn usage_events(&self, since: i64) -> StoreResult<Vec<UsageEvent>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT s.practice_id, s.user_id, s.created_at FROM sessions s
                 WHERE s.created_at >= ?1
                   AND (SELECT r.analytics FROM consent_records r
                        WHERE r.practice_id = s.practice_id AND r.user_id = s.user_id
                        ORDER BY r.seq DESC LIMIT 1) = 1",
            )?;
            Ok(stmt
                .query_map([since], |r| {
                    Ok(UsageEvent {
                        practice: PracticeId(parse_uuid(&r.get::<_, String>(0)?)?),
                        user: UserId(parse_uuid(&r.get::<_, String>(1)?)?),
                        at: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
