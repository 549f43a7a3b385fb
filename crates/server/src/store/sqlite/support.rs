//! [`SupportStore`] on SQLite: staff, staff sessions and grants.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use strongroom_protocol::{SupportAccess, SupportStaffInfo};
use uuid::Uuid;

use super::{SqliteStore, parse_uuid};
use crate::store::support::{
    AccessLogRow, GrantRow, NewGrant, StaffRecord, SupportStore, approved_from, matters_json,
    scope_from, scope_kind,
};
use crate::store::{PracticeId, StoreResult, UserId};

/// The columns [`grant_from_row`] reads, in its order, over `support_grants g` joined with
/// `support_staff s` and the deciding and revoking members `d` and `r`.
macro_rules! grant_select {
    () => {
        "SELECT g.id, g.practice_id, s.id, s.email, s.display_name, g.reason, g.ticket,
                g.scope_kind, g.matters, g.access, g.duration_hours, g.requested_at, g.decision,
                g.decided_at, d.id, d.display_name, g.expires_at, g.revoked_at, r.id,
                r.display_name
         FROM support_grants g
         JOIN support_staff s ON s.id = g.staff_id
         LEFT JOIN users d ON d.id = g.decided_by
         LEFT JOIN users r ON r.id = g.revoked_by "
    };
}

fn member_ref(
    id: Option<String>,
    name: Option<String>,
) -> rusqlite::Result<Option<(Uuid, String)>> {
    match id {
        Some(id) => Ok(Some((parse_uuid(&id)?, name.unwrap_or_default()))),
        None => Ok(None),
    }
}

fn grant_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRow> {
    let access: String = r.get(9)?;
    Ok(GrantRow {
        id: parse_uuid(&r.get::<_, String>(0)?)?,
        practice: PracticeId(parse_uuid(&r.get::<_, String>(1)?)?),
        staff: SupportStaffInfo {
            id: parse_uuid(&r.get::<_, String>(2)?)?,
            email: r.get(3)?,
            display_name: r.get(4)?,
        },
        reason: r.get(5)?,
        ticket: r.get(6)?,
        scope: scope_from(&r.get::<_, String>(7)?, &r.get::<_, String>(8)?),
        // An unknown access grants only reading.
        access: SupportAccess::parse(&access).unwrap_or(SupportAccess::Read),
        duration_hours: r.get(10)?,
        requested_at: r.get(11)?,
        approved: approved_from(r.get::<_, Option<String>>(12)?.as_deref()),
        decided_at: r.get(13)?,
        decided_by: member_ref(r.get(14)?, r.get(15)?)?,
        expires_at: r.get(16)?,
        revoked_at: r.get(17)?,
        revoked_by: member_ref(r.get(18)?, r.get(19)?)?,
    })
}

#[async_trait]
impl SupportStore for SqliteStore {
    async fn create_staff(
        &self,
        email: &str,
        display_name: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Uuid> {
        let (email, name, hash) = (
            email.to_owned(),
            display_name.to_owned(),
            password_hash.to_owned(),
        );
        self.with(move |c| {
            let id = Uuid::new_v4();
            c.execute(
                "INSERT INTO support_staff (id, email, display_name, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id.to_string(), email, name, hash, now],
            )?;
            Ok(id)
        })
        .await
    }

    async fn staff_by_email(&self, email: &str) -> StoreResult<Option<StaffRecord>> {
        let email = email.to_owned();
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT id, email, display_name, password_hash, disabled FROM support_staff
                 WHERE email = ?1",
                params![email],
                |r| {
                    Ok(StaffRecord {
                        id: parse_uuid(&r.get::<_, String>(0)?)?,
                        email: r.get(1)?,
                        display_name: r.get(2)?,
                        password_hash: r.get(3)?,
                        disabled: r.get(4)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn create_staff_session(
        &self,
        token_hash: &str,
        staff: Uuid,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            c.execute(
                "INSERT INTO support_sessions (token_hash, staff_id, created_at, last_seen_at, expires_at)
                 VALUES (?1, ?2, ?3, ?3, ?4)",
                params![token_hash, staff.to_string(), now, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn staff_session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
    ) -> StoreResult<Option<SupportStaffInfo>> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            let found = c
                .query_row(
                    "SELECT s.id, s.email, s.display_name FROM support_sessions x
                     JOIN support_staff s ON s.id = x.staff_id
                     WHERE x.token_hash = ?1 AND x.revoked = 0 AND s.disabled = 0
                       AND x.expires_at > ?2 AND x.last_seen_at > ?2 - ?3",
                    params![token_hash, now, idle_secs],
                    |r| {
                        Ok(SupportStaffInfo {
                            id: parse_uuid(&r.get::<_, String>(0)?)?,
                            email: r.get(1)?,
                            display_name: r.get(2)?,
                        })
                    },
                )
                .optional()?;
            if found.is_some() {
                c.execute(
                    "UPDATE support_sessions SET last_seen_at = ?2
                     WHERE token_hash = ?1 AND last_seen_at <> ?2",
                    params![token_hash, now],
                )?;
            }
            Ok(found)
        })
        .await
    }

    async fn revoke_staff_session(&self, token_hash: &str) -> StoreResult<bool> {
        let token_hash = token_hash.to_owned();
        self.with(move |c| {
            let changed = c.execute(
                "UPDATE support_sessions SET revoked = 1 WHERE token_hash = ?1 AND revoked = 0",
                params![token_hash],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn create_grant(&self, g: NewGrant) -> StoreResult<()> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO support_grants
                   (id, practice_id, staff_id, reason, ticket, scope_kind, matters, access,
                    duration_hours, requested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    g.id.to_string(),
                    g.practice.0.to_string(),
                    g.staff.to_string(),
                    g.reason,
                    g.ticket,
                    scope_kind(&g.scope),
                    matters_json(&g.scope),
                    g.access.as_str(),
                    g.duration_hours,
                    g.requested_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn practice_grants(&self, practice: PracticeId) -> StoreResult<Vec<GrantRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                grant_select!(),
                "WHERE g.practice_id = ?1 ORDER BY g.requested_at DESC, g.rowid DESC"
            ))?;
            let rows = stmt
                .query_map(params![practice.0.to_string()], grant_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn staff_grants(&self, staff: Uuid) -> StoreResult<Vec<GrantRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                grant_select!(),
                "WHERE g.staff_id = ?1 ORDER BY g.requested_at DESC, g.rowid DESC"
            ))?;
            let rows = stmt
                .query_map(params![staff.to_string()], grant_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn practice_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
    ) -> StoreResult<Option<GrantRow>> {
        self.with(move |c| {
            Ok(c.query_row(
                concat!(grant_select!(), "WHERE g.practice_id = ?1 AND g.id = ?2"),
                params![practice.0.to_string(), id.to_string()],
                grant_from_row,
            )
            .optional()?)
        })
        .await
    }

    async fn decide_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        approve: bool,
        now: i64,
    ) -> StoreResult<bool> {
        self.with(move |c| {
            let changed = c.execute(
                "UPDATE support_grants
                 SET decision = CASE WHEN ?4 THEN 'approved' ELSE 'declined' END,
                     decided_at = ?5, decided_by = ?3,
                     expires_at = CASE WHEN ?4 THEN ?5 + duration_hours * 3600 ELSE NULL END
                 WHERE practice_id = ?1 AND id = ?2 AND decision IS NULL",
                params![
                    practice.0.to_string(),
                    id.to_string(),
                    by.0.to_string(),
                    approve,
                    now
                ],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn revoke_grant(
        &self,
        practice: PracticeId,
        id: Uuid,
        by: UserId,
        now: i64,
    ) -> StoreResult<bool> {
        self.with(move |c| {
            let changed = c.execute(
                "UPDATE support_grants SET revoked_at = ?4, revoked_by = ?3
                 WHERE practice_id = ?1 AND id = ?2 AND decision = 'approved'
                   AND revoked_at IS NULL AND expires_at > ?4",
                params![
                    practice.0.to_string(),
                    id.to_string(),
                    by.0.to_string(),
                    now
                ],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn active_grants(
        &self,
        practice: PracticeId,
        staff: Uuid,
        now: i64,
    ) -> StoreResult<Vec<GrantRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(concat!(
                grant_select!(),
                "WHERE g.practice_id = ?1 AND g.staff_id = ?2 AND g.decision = 'approved'
                   AND g.revoked_at IS NULL AND g.expires_at > ?3
                 ORDER BY g.requested_at DESC, g.rowid DESC"
            ))?;
            let rows = stmt
                .query_map(
                    params![practice.0.to_string(), staff.to_string(), now],
                    grant_from_row,
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn support_access_log(
        &self,
        practice: PracticeId,
        kinds: &[&str],
        grant: Option<Uuid>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AccessLogRow>> {
        let kinds = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".to_owned());
        self.with(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.id, a.occurred_at, a.kind, a.details, s.id, s.email, s.display_name
                 FROM audit_log a
                 LEFT JOIN support_staff s ON a.actor = 'staff:' || s.id
                 WHERE a.practice_id = ?1 AND a.kind IN (SELECT value FROM json_each(?2))
                   AND (?3 IS NULL OR json_extract(a.details, '$.grant_id') = ?3)
                   AND (?4 IS NULL OR a.id < ?4)
                 ORDER BY a.id DESC LIMIT ?5",
            )?;
            let rows = stmt
                .query_map(
                    params![
                        practice.0.to_string(),
                        kinds,
                        grant.map(|g| g.to_string()),
                        before,
                        limit
                    ],
                    |r| {
                        let staff = match r.get::<_, Option<String>>(4)? {
                            Some(id) => Some(SupportStaffInfo {
                                id: parse_uuid(&id)?,
                                email: r.get(5)?,
                                display_name: r.get(6)?,
                            }),
                            None => None,
                        };
                        Ok(AccessLogRow {
                            id: r.get(0)?,
                            occurred_at: r.get(1)?,
                            kind: r.get(2)?,
                            details: r.get(3)?,
                            staff,
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }
}
